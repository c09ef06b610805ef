@testable import Tensor
import Testing

/// The few-rows Float product (a dense layer at a small batch) against a Double reference computed
/// here by the textbook triple loop, and `matmul`'s dispatch to it.
@Suite("Few-rows GEMM")
struct FewRowsGEMMTests {
    /// `[m, k] x [k, n]` in Double from the Float operands, and the bound on a Float result's error:
    /// a few units in the last place of the sum of |a| |b| over the inner dimension.
    static func reference(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> (product: [Double], bound: [Double]) {
        var product = [Double](repeating: 0, count: m * n), bound = product
        for i in 0..<m {
            for p in 0..<k {
                let x = Double(a[i * k + p])
                for j in 0..<n {
                    product[i * n + j] += x * Double(b[p * n + j])
                    bound[i * n + j] += abs(x * Double(b[p * n + j]))
                }
            }
        }
        // Blocked summation: the error grows with the number of 128-long blocks plus a block's length.
        let terms = Double(k / 128 + 128)
        return (product, bound.map { $0 * terms * Double(Float.ulpOfOne) })
    }

    static let shapes: [(m: Int, k: Int, n: Int)] = [
        (32, 22500, 128),  // the dense seed model's first layer: 6-row tiles and a 2-row tail, k % 128 = 100
        (7, 300, 37),      // a masked last vector (37 = 2 x 16 + 5), a 1-row tail, a short last block
        (96, 1024, 64),    // the largest row count the kernel takes
        (1, 256, 16),      // one row, one vector, one block
        (33, 4097, 130),   // everything ragged, several parts
    ]

    @Test("matches the Double product for every part count", .enabled(if: FewRowsGEMM.isAvailable, "no AVX-512: the product runs on BLAS"),
          arguments: shapes.indices)
    func matchesReference(_ index: Int) {
        let (m, k, n) = Self.shapes[index]
        let a = Tensor<Float>.uniform([m, k], lower: -1, upper: 1, seed: 7)
        let b = Tensor<Float>.normal([k, n], seed: 8)
        let (expected, bound) = Self.reference(a.scalars, b.scalars, m: m, n: n, k: k)
        for parts in [1, 2, 3] {
            var c = [Float](repeating: .nan, count: m * n)
            a.scalars.withUnsafeBufferPointer { ap in
                b.scalars.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        FewRowsGEMM.multiply(ap.baseAddress!, bp.baseAddress!, cp.baseAddress!, m: m, n: n, k: k, parts: parts)
                    }
                }
            }
            let worst = (0..<(m * n)).map { abs(Double(c[$0]) - expected[$0]) / bound[$0] }.max()!
            #expect(worst <= 1, "[\(m), \(k)] x [\(k), \(n)] in \(parts) parts: error \(worst) of the bound")
        }
    }

    @Test("matmul takes the kernel for few rows and gives BLAS's values", .enabled(if: FewRowsGEMM.isAvailable, "no AVX-512: the product runs on BLAS"))
    func matmulDispatch() {
        #expect(FewRowsGEMM.applies(m: 32, n: 128, k: 22500))
        #expect(!FewRowsGEMM.applies(m: 128, n: 128, k: 22500))  // many rows: BLAS
        #expect(!FewRowsGEMM.applies(m: 32, n: 1, k: 22500))     // one column: BLAS
        #expect(!FewRowsGEMM.applies(m: 32, n: 64, k: 128))      // tiny: BLAS
        #expect(FewRowsGEMM.parts(m: 32, n: 128, k: 22500, threads: 2) == 2)
        #expect(FewRowsGEMM.parts(m: 32, n: 64, k: 1024, threads: 2) == 1)
        let (m, k, n) = (20, 3000, 50)
        let a = Tensor<Float>.uniform([m, k], lower: -1, upper: 1, seed: 3)
        let b = Tensor<Float>.normal([k, n], seed: 4)
        let product = a.matmul(b)
        #expect(product.shape == [m, n])
        var blas = [Float](repeating: 0, count: m * n)
        a.scalars.withUnsafeBufferPointer { ap in
            b.scalars.withUnsafeBufferPointer { bp in
                blas.withUnsafeMutableBufferPointer { cp in
                    Float.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: k,
                               b: bp.baseAddress!, ldb: n, beta: 0, c: cp.baseAddress!, ldc: n)
                }
            }
        }
        let (_, bound) = Self.reference(a.scalars, b.scalars, m: m, n: n, k: k)
        // A product that must not take the kernel (a transposed operand) runs on BLAS too.
        let transposed = a.matmul(b.transposed(), transposeOther: true)
        for (name, other) in [("BLAS", blas), ("matmul with a transposed operand", transposed.scalars)] {
            let worst = (0..<(m * n)).map { Double(abs(product.scalars[$0] - other[$0])) / (2 * bound[$0]) }.max()!
            #expect(worst <= 1, "matmul against \(name): difference \(worst) of twice the bound")
        }
    }
}
