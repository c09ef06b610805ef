import Foundation
import Tensor

/// Assembles the batches of an ``ImageBatchSource`` on a background thread ahead of the training
/// step, through a bounded queue (at most `prefetchDepth` batches wait), in a seeded shuffled
/// order of its own.
///
/// Sample position `p` of pass (epoch) `e` is sample `order(epoch: e)[p]` of the source, augmented
/// with epoch `e`. Train with `trainer.fit(loader, epochs: ..., batchSize: loader.batchSize,
/// shuffle: false)`: the trainer then asks for consecutive blocks of positions, which the loader
/// has already prepared. Any other request (another batch size, random access) is computed on the
/// spot with the same mapping, so results never depend on thread timing, only on the calls.
/// A request for the first block while a pass is unfinished starts the next pass.
public final class PrefetchingLoader<Scalar: TensorScalar>: BatchSource, Sendable {
    /// The source the batches come from.
    public let source: ImageBatchSource<Scalar>
    /// The batch size the loader prepares.
    public let batchSize: Int
    /// The shuffle seed, or nil for the source's order.
    public let shuffleSeed: UInt64?
    /// The most batches prepared ahead.
    public let prefetchDepth: Int
    private let state: PrefetchState<Scalar>

    /// A loader over `source`; the first pass is epoch `initialEpoch` (set it when resuming).
    public init(_ source: ImageBatchSource<Scalar>, batchSize: Int, shuffleSeed: UInt64? = 0, prefetchDepth: Int = 2, initialEpoch: Int = 0) {
        precondition(batchSize > 0 && prefetchDepth > 0, "PrefetchingLoader: batch size \(batchSize) and depth \(prefetchDepth) must be positive")
        precondition(source.count > 0, "PrefetchingLoader: the source is empty")
        self.source = source
        self.batchSize = batchSize
        self.shuffleSeed = shuffleSeed
        self.prefetchDepth = prefetchDepth
        let blocks = (source.count + batchSize - 1) / batchSize
        state = PrefetchState(blocksPerEpoch: blocks, first: initialEpoch * blocks)
    }

    deinit { state.cancel() }

    /// The number of samples (positions) per pass.
    public var count: Int { source.count }

    /// The epoch the next expected batch belongs to.
    public var epoch: Int { state.withLock { $0.consumerNext / state.blocksPerEpoch } }

    /// The source sample at each position of pass `epoch`.
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<source.count)
        if let shuffleSeed {
            var generator = SeededGenerator(seed: mixSeed(shuffleSeed, UInt64(bitPattern: Int64(epoch)), 0x4C4F_4144))
            generator.shuffle(&order)
        }
        return order
    }

    /// The inputs and targets at positions `indices` of the current pass.
    public func batch(_ indices: [Int]) throws -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        let blocks = state.blocksPerEpoch
        let expected = state.withLock { s -> Int? in
            var g = s.consumerNext
            let block = g % blocks
            if block != 0 && indices.first == 0 && indices == blockPositions(0) {
                // A new pass while the previous one was left unfinished: move to the next epoch.
                g = (g / blocks + 1) * blocks
                s.restart(at: g)
            }
            return indices == blockPositions(g % blocks) ? g : nil
        }
        guard let g = expected else {
            let e = epoch
            let order = self.order(epoch: e)
            return source.batch(indices.map { order[$0] }, epoch: e)
        }
        startProducerIfNeeded()
        return state.take(g)
    }

    /// The positions of block `b` of a pass.
    private func blockPositions(_ b: Int) -> [Int] {
        Array((b * batchSize)..<min(source.count, (b + 1) * batchSize))
    }

    private func startProducerIfNeeded() {
        guard state.withLock({ s in
            defer { s.running = true }
            return !s.running
        }) else { return }
        let state = self.state, source = self.source, batchSize = self.batchSize, depth = prefetchDepth
        let seed = shuffleSeed
        let thread = Thread {
            var cachedEpoch = Int.min, order: [Int] = []
            while let g = state.nextToProduce(depth: depth) {
                let e = g / state.blocksPerEpoch, b = g % state.blocksPerEpoch
                if e != cachedEpoch {
                    order = Array(0..<source.count)
                    if let seed {
                        var generator = SeededGenerator(seed: mixSeed(seed, UInt64(bitPattern: Int64(e)), 0x4C4F_4144))
                        generator.shuffle(&order)
                    }
                    cachedEpoch = e
                }
                let positions = (b * batchSize)..<min(source.count, (b + 1) * batchSize)
                let batch = source.batch(positions.map { order[$0] }, epoch: e)
                state.deliver(g, batch)
            }
        }
        thread.name = "PrefetchingLoader"
        thread.start()
    }
}

/// The queue between the producer thread and the consumer, guarded by one condition variable.
final class PrefetchState<Scalar: TensorScalar>: @unchecked Sendable {
    struct Fields {
        var consumerNext: Int
        var producerNext: Int
        var ready: [Int: (x: Tensor<Scalar>, y: Tensor<Scalar>)] = [:]
        var running = false
        var cancelled = false

        mutating func restart(at g: Int) {
            consumerNext = g
            producerNext = g
            ready.removeAll()
        }
    }

    let blocksPerEpoch: Int
    private let condition = NSCondition()
    private var fields: Fields

    init(blocksPerEpoch: Int, first: Int) {
        self.blocksPerEpoch = blocksPerEpoch
        fields = Fields(consumerNext: first, producerNext: first)
    }

    func withLock<T>(_ body: (inout Fields) -> T) -> T {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        return body(&fields)
    }

    /// Waits for room in the queue; the next block to produce, or nil once cancelled.
    func nextToProduce(depth: Int) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while !fields.cancelled && fields.producerNext - fields.consumerNext >= depth { condition.wait() }
        if fields.cancelled { return nil }
        defer { fields.producerNext += 1 }
        return fields.producerNext
    }

    func deliver(_ g: Int, _ batch: (x: Tensor<Scalar>, y: Tensor<Scalar>)) {
        withLock { s in
            if g >= s.consumerNext && g < s.producerNext { s.ready[g] = batch }
        }
    }

    /// Waits for block `g` (the consumer's next) and removes it from the queue.
    func take(_ g: Int) -> (x: Tensor<Scalar>, y: Tensor<Scalar>) {
        condition.lock()
        defer { condition.broadcast(); condition.unlock() }
        while fields.ready[g] == nil { condition.wait() }
        fields.consumerNext = g + 1
        return fields.ready.removeValue(forKey: g)!
    }

    func cancel() {
        withLock { $0.cancelled = true }
    }
}
