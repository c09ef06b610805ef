import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Tensor
import TestSupport
import Testing

/// `Parallel`'s loops on the spinning pool and on its libdispatch fallback: every part runs exactly
/// once, nested loops and loops from several threads at once included; loops with a body struct
/// split work as the closure forms do and allocate nothing.
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

    /// A range body that counts, per index, how often it ran and records the first index of its range.
    struct MarkRanges: ParallelLoopBody {
        let runs: UncheckedSendable<UnsafeMutablePointer<Int>>
        let starts: UncheckedSendable<UnsafeMutablePointer<Int>>

        func callAsFunction(_ range: Range<Int>) {
            for i in range {
                runs.value[i] += 1
                starts.value[i] = range.lowerBound
            }
        }
    }

    /// A part body that counts how often each part ran.
    struct MarkParts: ParallelPartBody {
        let runs: UncheckedSendable<UnsafeMutablePointer<Int>>

        func callAsFunction(_ part: Int) { runs.value[part] += 1 }
    }

    @Test("a body struct's ranges are the closure form's split, each index covered once",
          arguments: [(1, 1), (2, 1), (7, 1), (64, 1), (1000, 1), (1000, 300), (1000, 600), (100_000, 1 << 14)])
    func bodyStructRanges(_ count: Int, _ minimumPerThread: Int) {
        let parts = min(Parallel.threads, max(1, count / minimumPerThread))
        for _ in 0..<20 {
            let (runs, starts) = (Counts(count), Counts(count))
            Parallel.forEachRange(
                count, minimumPerThread: minimumPerThread,
                MarkRanges(runs: UncheckedSendable(runs.slots), starts: UncheckedSendable(starts.slots)))
            #expect(runs.all == [Int](repeating: 1, count: count))
            var expectedStarts = [Int](repeating: -1, count: count)
            for part in 0..<parts {
                let range = Parallel.range(part, of: parts, count: count)
                for i in range { expectedStarts[i] = range.lowerBound }
            }
            #expect(starts.all == expectedStarts)
            // The closure form splits the same way.
            let closureStarts = Counts(count)
            Parallel.forEachRange(count, minimumPerThread: minimumPerThread) { range in
                for i in range { closureStarts.slots[i] = range.lowerBound }
            }
            #expect(closureStarts.all == expectedStarts)
        }
    }

    @Test("a body struct's parts each run once", arguments: [1, 2, 3, 7, 64, 1000])
    func bodyStructParts(_ parts: Int) {
        for _ in 0..<20 {
            let runs = Counts(parts)
            Parallel.forEachPart(parts, MarkParts(runs: UncheckedSendable(runs.slots)))
            #expect(runs.all == [Int](repeating: 1, count: parts))
        }
    }

    /// Expects one of `rounds` (each the allocations of repeated calls of a loop) to be all zero,
    /// in debug builds too (nothing on the way allocates, unspecialized generic code included).
    /// One clean round is enough: when other tests' loops hold the pool, a loop runs on libdispatch,
    /// whose `dispatch_apply_f` may allocate its own continuations - not in every round, while an
    /// allocation of ours would show in every call of every round.
    static func expectAnAllocationFreeRound(_ rounds: [[UInt64]], _ comment: Comment) {
        guard AllocationCounter.isActive else { return }
        #expect(rounds.contains { $0.allSatisfy { $0 == 0 } }, "allocations per call, per round: \(rounds); \(comment)")
    }

    @Test("loops with a body struct allocate nothing after the first call")
    func bodyStructLoopsDoNotAllocate() {
        let count = 4096, parts = 2 * Parallel.threads, calls = 3
        let (runs, starts, partRuns) = (Counts(count), Counts(count), Counts(parts))
        let ranges = MarkRanges(runs: UncheckedSendable(runs.slots), starts: UncheckedSendable(starts.slots))
        let partBody = MarkParts(runs: UncheckedSendable(partRuns.slots))
        var rangeCounts: [[UInt64]] = [], partCounts: [[UInt64]] = []
        Parallel.forEachRange(count, minimumPerThread: 1, ranges)
        Parallel.forEachPart(parts, partBody)
        // Rounds until one is clean for both loops, for up to 5 s with a short pause between
        // rounds (a busy test run can keep the pool taken, and the loops on libdispatch, for a while).
        let start = ContinuousClock.now
        repeat {
            var rangeRound = [UInt64](repeating: 0, count: calls), partRound = rangeRound
            for call in 0..<calls {
                rangeRound[call] = AllocationCounter.countingThreadAllocations {
                    Parallel.forEachRange(count, minimumPerThread: 1, ranges)
                }.allocations
                partRound[call] = AllocationCounter.countingThreadAllocations {
                    Parallel.forEachPart(parts, partBody)
                }.allocations
            }
            rangeCounts.append(rangeRound)
            partCounts.append(partRound)
            if rangeRound.allSatisfy({ $0 == 0 }) && partRound.allSatisfy({ $0 == 0 }) { break }
            usleep(2_000)
        } while ContinuousClock.now - start < .seconds(5)
        let rounds = rangeCounts.count
        #expect(runs.all == [Int](repeating: rounds * calls + 1, count: count))
        #expect(partRuns.all == [Int](repeating: rounds * calls + 1, count: parts))
        Self.expectAnAllocationFreeRound(rangeCounts, "forEachRange")
        Self.expectAnAllocationFreeRound(partCounts, "forEachPart")
    }

    /// An outer part that runs an inner loop (on the libdispatch fallback: the pool does not nest)
    /// `repeats` times. (`dispatch_apply_f` may allocate its own continuations on a thread that is
    /// not one of its workers, so the fallback's allocations are not checked.)
    struct NestedLoops: ParallelPartBody {
        static let inner = 16, repeats = 3
        let cells: UncheckedSendable<UnsafeMutablePointer<Int>>

        func callAsFunction(_ part: Int) {
            let body = MarkParts(runs: UncheckedSendable(cells.value + part * Self.inner))
            for _ in 0..<Self.repeats { Parallel.forEachPart(Self.inner, body) }
        }
    }

    @Test("a loop with a body struct inside a loop's part (the libdispatch fallback) covers every index once")
    func nestedBodyStructLoops() {
        let outer = 4
        let cells = Counts(outer * NestedLoops.inner)
        Parallel.forEachPart(outer, NestedLoops(cells: UncheckedSendable(cells.slots)))
        #expect(cells.all == [Int](repeating: NestedLoops.repeats, count: outer * NestedLoops.inner))
    }
}
