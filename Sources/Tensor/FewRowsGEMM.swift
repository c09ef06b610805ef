import CKernels

/// `C = A · B` in Float for a product with few rows and a long inner dimension, on the
/// `ck_sgemm_few_rows_f32` kernel instead of BLAS: a fully connected layer at a small batch.
///
/// OpenBLAS packs both operands on every call; with at most a few dozen rows each packed element
/// of `B` is used only `m` times, so packing costs about as much as the arithmetic. The kernel
/// reads `B` in place, and the inner dimension is split into one contiguous part per thread (the
/// parts' sums are added in part order, so a result depends on the thread count but never on
/// timing). C harness against OpenBLAS's SkylakeX sgemm, best of 100, 2 cores:
/// `[32, 22500] x [22500, 128]` (the dense seed model) 1.46 -> 0.90 ms,
/// `[32, 82944] x [82944, 128]` (cnn) 5.62 -> 3.39 ms, `[32, 18432] x [18432, 512]` 4.33 -> 2.85 ms.
enum FewRowsGEMM {
    /// Whether the CPU runs the kernel (AVX-512).
    static let isAvailable = ck_sgemm_few_rows_available() != 0

    /// Whether `[m, k] x [k, n]` goes to the kernel: at most 96 rows, at least 16 columns and an
    /// inner dimension of at least 256 (the shapes where it beat OpenBLAS; tiny products stay on BLAS).
    static func applies(m: Int, n: Int, k: Int) -> Bool {
        isAvailable && m >= 1 && m <= 96 && n >= 16 && k >= 256
    }

    /// The number of parts the inner dimension of `[m, k] x [k, n]` is split into: one per thread
    /// once the product has about 4 million multiply-adds per part, else one.
    static func parts(m: Int, n: Int, k: Int, threads: Int = Parallel.threads) -> Int {
        Swift.max(1, Swift.min(threads, (m * n * k) >> 22, k / 128))
    }

    /// `c[m, n] = a[m, k] · b[k, n]`, all row-major and contiguous; `c` is only written.
    static func multiply(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, parts: Int
    ) {
        precondition(parts >= 1, "FewRowsGEMM: parts must be positive, got \(parts)")
        guard parts > 1 else {
            ck_sgemm_few_rows_f32(a, k, b, n, c, n, m, k, 0, n)
            return
        }
        let size = m * n
        withScratchBuffer(count: (parts - 1) * size) { (partials: UnsafeMutablePointer<Float>) in
            Parallel.forEachPart(parts, PartLoop(
                a: UncheckedSendable(a), b: UncheckedSendable(b), c: UncheckedSendable(c),
                partials: UncheckedSendable(partials), m: m, n: n, k: k, parts: parts))
            for part in 1..<parts {
                let partial = partials + (part - 1) * size
                for i in 0..<size { c[i] += partial[i] }
            }
        }
    }
}

extension FewRowsGEMM {
    /// ``multiply(_:_:_:m:n:k:parts:)``'s loop body: one part's inner range into `c` (part 0) or its
    /// partial product.
    fileprivate struct PartLoop: ParallelPartBody {
        let a, b: UncheckedSendable<UnsafePointer<Float>>
        let c, partials: UncheckedSendable<UnsafeMutablePointer<Float>>
        let m, n, k, parts: Int

        func callAsFunction(_ part: Int) {
            // Part boundaries on multiples of 128 (the kernel's inner block), so the blocks each part
            // sums are the ones a single call would sum.
            let blocks = Parallel.range(part, of: parts, count: (k + 127) / 128)
            let range = (blocks.lowerBound * 128)..<Swift.min(k, blocks.upperBound * 128)
            let out = part == 0 ? c.value : partials.value + (part - 1) * m * n
            ck_sgemm_few_rows_f32(
                a.value + range.lowerBound, k, b.value + range.lowerBound * n, n, out, n, m, range.count, 0, n)
        }
    }
}
