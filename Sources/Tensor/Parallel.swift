import CKernels
#if canImport(CDispatch)
import CDispatch
#else
import Dispatch
#endif
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
///
/// A loop's body is a ``ParallelLoopBody`` or ``ParallelPartBody`` struct: the threads get a
/// pointer to it and its type, so a loop allocates nothing (a closure handed to other threads
/// needs `withoutActuallyEscaping`, which boxes it on every call; the closure forms remain for
/// tests and code off the training path).
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

    /// Runs part `part` of `parts` of the loop whose body `job.body` points to, for every part, across
    /// threads: on the pool when it is free, else (another thread's loop holds it, or this is a loop
    /// inside a pool task) on libdispatch. Allocates nothing on the Swift side.
    private static func run(_ job: LoopJob) {
        withUnsafePointer(to: job) { pointer in
            let context = UnsafeMutableRawPointer(mutating: pointer)
            if usesPool, ck_pool_run(job.parts, { context, part in LoopJob.run(context, part) }, context) != 0 { return }
            // `dispatch_apply_f` rather than `DispatchQueue.concurrentPerform`, which allocates a
            // box and copies a block on every call; the same queue (`DISPATCH_APPLY_AUTO`).
            dispatch_apply_f(job.parts, nil, context) { context, part in LoopJob.run(context, part) }
        }
    }

    /// Calls `body` on contiguous ranges that cover `0..<count` exactly once, in parallel when
    /// there are at least `2 * minimumPerThread` items; each range holds at least
    /// `minimumPerThread` items (the last may hold more). `body` must only write memory that
    /// belongs to its own range. Allocates nothing (once the body's type has been used).
    @inline(__always)
    package static func forEachRange<Body: ParallelLoopBody>(
        _ count: Int, minimumPerThread: Int = 1, _ body: Body
    ) {
        guard count > 0 else { return }
        let parts = parts(count, minimumPerThread: minimumPerThread)
        if parts <= 1 {
            body(0..<count)
            return
        }
        withUnsafePointer(to: body) { pointer in
            run(LoopJob(runner: RangeRunner<Body>.self, body: UnsafeRawPointer(pointer), parts: parts, count: count))
        }
    }

    /// Runs `body(part)` for `part` in `0..<parts`, in parallel; for per-thread partial results
    /// (each part writes only its own slot), with `parts` usually ``threads``. Allocates nothing
    /// (once the body's type has been used).
    @inline(__always)
    package static func forEachPart<Body: ParallelPartBody>(_ parts: Int, _ body: Body) {
        guard parts > 0 else { return }
        if parts == 1 {
            body(0)
            return
        }
        withUnsafePointer(to: body) { pointer in
            run(LoopJob(runner: PartRunner<Body>.self, body: UnsafeRawPointer(pointer), parts: parts, count: parts))
        }
    }

    /// `forEachRange` with a closure, for code off the training hot path (tests, generic paths):
    /// allocates one small object per parallel call (`withoutActuallyEscaping`'s box), so hot
    /// kernels use a ``ParallelLoopBody`` instead.
    @inline(__always)
    package static func forEachRange(
        _ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        if parts(count, minimumPerThread: minimumPerThread) <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            forEachRange(count, minimumPerThread: minimumPerThread, ClosureRangeBody(body: body))
        }
    }

    /// `forEachPart` with a closure; allocates one small object per parallel call,
    /// as the closure form of `forEachRange` does.
    @inline(__always)
    package static func forEachPart(_ parts: Int, _ body: (Int) -> Void) {
        guard parts > 0 else { return }
        if parts == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { body in forEachPart(parts, ClosurePartBody(body: body)) }
    }

    /// The number of ranges `forEachRange` cuts `count` items into.
    private static func parts(_ count: Int, minimumPerThread: Int) -> Int {
        Swift.min(threads, Swift.max(1, count / Swift.max(1, minimumPerThread)))
    }

    /// Range `part` of `parts` near-equal contiguous ranges of `0..<count`.
    package static func range(_ part: Int, of parts: Int, count: Int) -> Range<Int> {
        (part * count / parts)..<((part + 1) * count / parts)
    }
}

/// The body of a `Parallel.forEachRange` loop: a small struct holding what the loop reads and
/// writes (pointers wrapped in ``UncheckedSendable``, counts), called once per range on some thread.
package protocol ParallelLoopBody: Sendable {
    /// Runs the loop on `range`, one of the contiguous ranges that cover the loop's indices.
    func callAsFunction(_ range: Range<Int>)
}

/// The body of a `Parallel.forEachPart` loop, called once per part on some thread.
package protocol ParallelPartBody: Sendable {
    /// Runs part `part` of the loop.
    func callAsFunction(_ part: Int)
}

/// How a pool thread runs one part of a loop whose body it only has a raw pointer to: a type per
/// kind of body, handed over as an existential metatype (no allocation).
private protocol LoopRunner {
    /// Runs part `part` of `parts` of the loop over `0..<count` whose body is at `body`.
    static func run(_ body: UnsafeRawPointer, part: Int, of parts: Int, count: Int)
}

/// Runs a ``ParallelLoopBody`` on range `part` of `parts` of `0..<count`.
private enum RangeRunner<Body: ParallelLoopBody>: LoopRunner {
    static func run(_ body: UnsafeRawPointer, part: Int, of parts: Int, count: Int) {
        body.assumingMemoryBound(to: Body.self).pointee(Parallel.range(part, of: parts, count: count))
    }
}

/// Runs a ``ParallelPartBody`` on part `part`.
private enum PartRunner<Body: ParallelPartBody>: LoopRunner {
    static func run(_ body: UnsafeRawPointer, part: Int, of parts: Int, count: Int) {
        body.assumingMemoryBound(to: Body.self).pointee(part)
    }
}

/// A loop handed to other threads: its body (a pointer to the caller's stack), how to run it, and
/// its split. A concrete type with no closure in it: storing a closure in a generic container makes
/// the compiler wrap it in a reabstraction thunk, and `withoutActuallyEscaping` boxes it, one heap
/// allocation per loop either way.
private struct LoopJob: @unchecked Sendable {
    let runner: any LoopRunner.Type
    let body: UnsafeRawPointer
    let parts: Int
    let count: Int

    /// Runs part `part` of the job at `context`.
    static func run(_ context: UnsafeMutableRawPointer?, _ part: Int) {
        let job = context!.assumingMemoryBound(to: LoopJob.self).pointee
        job.runner.run(job.body, part: part, of: job.parts, count: job.count)
    }
}

/// A closure as a range loop body, for the closure form of the loop (which allocates).
private struct ClosureRangeBody: ParallelLoopBody, @unchecked Sendable {
    let body: (Range<Int>) -> Void
    func callAsFunction(_ range: Range<Int>) { body(range) }
}

/// A closure as a part loop body, for the closure form of the loop (which allocates).
private struct ClosurePartBody: ParallelPartBody, @unchecked Sendable {
    let body: (Int) -> Void
    func callAsFunction(_ part: Int) { body(part) }
}

/// A value handed to the threads of a ``Parallel`` loop: pointers and closures whose accesses
/// the loop keeps disjoint.
package struct UncheckedSendable<Value>: @unchecked Sendable {
    /// The wrapped value.
    package let value: Value
    /// Wraps `value`.
    package init(_ value: Value) { self.value = value }
}
