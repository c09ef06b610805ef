import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Tensor
import Testing

/// `Parallel`'s loops on the spinning pool and on its libdispatch fallback: every part runs exactly
/// once, nested loops and loops from several threads at once included.
@Suite("Parallel loops")
struct ParallelTests {
    /// How often each index ran: one slot per index, each written by the one part that owns it.
    final class Counts: @unchecked Sendable {
        let slots: UnsafeMutablePointer<Int>
        let count: Int
        init(_ count: Int) {
            self.count = count
            slots = .allocate(capacity: count)
            slots.initialize(repeating: 0, count: count)
        }
        deinit { slots.deallocate() }
        var all: [Int] { Array(UnsafeBufferPointer(start: slots, count: count)) }
    }

    @Test("forEachPart and forEachRange cover every index once", arguments: [1, 2, 3, 7, 64, 1000])
    func coverage(_ parts: Int) {
        if Parallel.threads > 1, getenv("DEEPLEARNING_DISPATCH_ONLY") == nil {
            #expect(Parallel.usesPool, "the pool did not start: these loops would only test libdispatch")
        }
        for _ in 0..<50 {
            let counts = Counts(parts)
            Parallel.forEachPart(parts) { counts.slots[$0] += 1 }
            #expect(counts.all == [Int](repeating: 1, count: parts))
            let elements = Counts(parts * 13)
            Parallel.forEachRange(parts * 13, minimumPerThread: 1) { range in
                for i in range { elements.slots[i] += 1 }
            }
            #expect(elements.all == [Int](repeating: 1, count: parts * 13))
        }
    }

    @Test("a loop inside a loop's part runs (on libdispatch) and covers every index once")
    func nested() {
        let outer = 4, inner = 5
        let counts = Counts(outer * inner)
        Parallel.forEachPart(outer) { i in
            Parallel.forEachPart(inner) { j in counts.slots[i * inner + j] += 1 }
        }
        #expect(counts.all == [Int](repeating: 1, count: outer * inner))
    }

    @Test("loops started by several threads at once all finish with every index covered once")
    func concurrentCallers() {
        let callers = 4, parts = 16, repeats = 200
        let counts = Counts(callers * parts)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            for _ in 0..<repeats {
                Parallel.forEachPart(parts) { counts.slots[caller * parts + $0] += 1 }
            }
        }
        #expect(counts.all == [Int](repeating: repeats, count: callers * parts))
    }
}
