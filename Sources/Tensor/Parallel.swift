import CKernels
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Splits a kernel's work across the machine's cores, for kernels that do not call BLAS.
///
/// OpenBLAS runs its own threads inside every `?gemm` call, so a BLAS call is never wrapped in
/// one of these loops; everything else on the hot path (Winograd transforms, pooling,
/// elementwise epilogues, normalization statistics) would otherwise run on one core while the
/// others wait. Work is cut into at most ``threads`` contiguous ranges that run on the calling
/// thread and the workers of a small pool that spin briefly between loops (`ck_threadpool.h`:
/// libdispatch wakes a sleeping worker for every loop, which on a virtual machine can take as
/// long as the loop), or libdispatch's workers when the pool is taken.
package enum Parallel {
    /// The number of threads a loop uses: the processors this process may run on, or
    /// `DEEPLEARNING_THREADS` when that is set to a positive number.
    package static let threads: Int = {
        if let value = getenv("DEEPLEARNING_THREADS"), let n = Int(String(cString: value)), n > 0 { return n }
        return Int(ck_available_cpus())
    }()

    /// Whether loops run on the spinning pool of `ck_threadpool.h` (started on first use with
    /// ``threads`` - 1 workers); `DEEPLEARNING_DISPATCH_ONLY=1` keeps every loop on libdispatch.
    static let usesPool: Bool = {
        guard threads > 1, getenv("DEEPLEARNING_DISPATCH_ONLY").map({ String(cString: $0) != "1" }) ?? true else {
            return false
        }
        return ck_pool_start(Int32(threads - 1)) > 0
    }()

    /// Runs `body(part)` for `part` in `0..<parts` across threads: on the pool when it is free,
    /// else (another thread's loop holds it, or this is a loop inside a pool task) on libdispatch.
    @inline(__always)
    private static func run(_ parts: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            let task = LoopTask(body: body)
            if usesPool {
                let ran = withUnsafePointer(to: task) { pointer in
                    ck_pool_run(parts, { context, part in
                        context!.assumingMemoryBound(to: LoopTask.self).pointee.body(part)
                    }, UnsafeMutableRawPointer(mutating: pointer))
                }
                if ran != 0 { return }
            }
            DispatchQueue.concurrentPerform(iterations: parts) { task.body($0) }
        }
    }

    /// A loop body handed to other threads. A concrete type: storing the closure in a generic
    /// container (`UncheckedSendable<(Int) -> Void>`, or `withUnsafePointer(to:)` on the closure
    /// itself) makes the compiler wrap it in a reabstraction thunk, one heap allocation per loop.
    private struct LoopTask: @unchecked Sendable {
        let body: (Int) -> Void
    }

    /// Calls `body` on contiguous ranges that cover `0..<count` exactly once, in parallel when
    /// there are at least `2 * minimumPerThread` items; each range holds at least
    /// `minimumPerThread` items (the last may hold more). `body` must only write memory that
    /// belongs to its own range.
    @inline(__always)
    package static func forEachRange(
        _ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let parts = Swift.min(threads, Swift.max(1, count / Swift.max(1, minimumPerThread)))
        if parts <= 1 {
            body(0..<count)
            return
        }
        run(parts) { part in body(range(part, of: parts, count: count)) }
    }

    /// Runs `body(part)` for `part` in `0..<parts`, in parallel; for per-thread partial results
    /// (each part writes only its own slot), with `parts` usually ``threads``.
    @inline(__always)
    package static func forEachPart(_ parts: Int, _ body: (Int) -> Void) {
        guard parts > 0 else { return }
        if parts == 1 {
            body(0)
            return
        }
        run(parts, body)
    }

    /// Range `part` of `parts` near-equal contiguous ranges of `0..<count`.
    package static func range(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (part * count / parts)..<((part + 1) * count / parts)
    }
}

/// A value handed to the threads of a ``Parallel`` loop: pointers and closures whose accesses
/// the loop keeps disjoint.
package struct UncheckedSendable<Value>: @unchecked Sendable {
    /// The wrapped value.
    package let value: Value
    /// Wraps `value`.
    package init(_ value: Value) { self.value = value }
}
