import CAllocationCounter
#if canImport(Glibc)
import Glibc
#endif

/// Heap allocations counted by the test process's counting `malloc` (the `CAllocationCounter`
/// target), for tests that check a code path allocates nothing.
public enum AllocationCounter {
    /// Whether allocations are counted on this platform (glibc on Linux).
    public static var isActive: Bool { allocation_counter_is_active() != 0 }

    /// Allocations made so far by the calling thread.
    public static var thread: UInt64 { allocation_counter_thread() }

    /// The number of heap allocations the calling thread made while `body` ran, with its result.
    /// Allocations on other threads (tests running in parallel, worker threads) are not counted.
    /// With `ALLOCATION_COUNTER_BACKTRACES=1` in the environment, the call stack of each counted
    /// allocation is printed to standard error.
    public static func countingThreadAllocations<R>(_ body: () throws -> R) rethrows -> (result: R, allocations: UInt64) {
        let trace = getenv("ALLOCATION_COUNTER_BACKTRACES").map { String(cString: $0) == "1" } ?? false
        if trace { allocation_counter_trace(1) }
        defer { if trace { allocation_counter_trace(0) } }
        let before = allocation_counter_thread()
        let result = try body()
        return (result, allocation_counter_thread() - before)
    }
}
