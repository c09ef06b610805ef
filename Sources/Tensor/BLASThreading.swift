// Per-call OpenBLAS thread counts for GEMM shapes where OpenBLAS's own choice is slow.
//
// A weight-gradient GEMM (`im2col(x)^T * dY`: a small `K x Cout` output and a long inner
// dimension) gets no faster with a second OpenBLAS thread: OpenBLAS splits the small output, so
// both threads stream the whole inner dimension and synchronize per block. Measured on the seed
// models' shapes (2-core AVX-512 EPYC, OpenBLAS 0.3.21, best of 5, e.g. K=27, Cout=32 over
// 700,928 rows: 37 ms with 1 thread vs 65 ms with 2; K=1152, Cout=128 over 42,592 rows: 198 vs
// 291 ms; no shape was faster with 2), such GEMMs run on one thread.

import COpenBLAS

/// Runs BLAS calls with a chosen OpenBLAS thread count and restores the previous count afterwards.
///
/// The count is process-wide in OpenBLAS, so a BLAS call on another thread during `body` also
/// runs with it (it stays correct, only its speed changes).
enum BLASThreading {
    /// Threads for weight-gradient GEMMs (small output, long inner dimension): 1 was fastest at
    /// every seed-model shape measured (see the file header).
    static let weightGradientThreads = 1

    /// Runs `body` with OpenBLAS limited to `threads` threads (never more than it had), then
    /// restores the previous count.
    @inline(__always)
    static func withThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        let previous = Int(openblas_get_num_threads())
        guard threads < previous else { return try body() }
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(Int32(previous)) }
        return try body()
    }
}
