import CKernels
import COpenBLAS
import Foundation

/// An elementwise operation of one operand, applied by ``TensorScalar/applyUnary(_:_:_:_:)``.
public enum UnaryOp<Scalar: TensorScalar>: Sendable {
    /// `-x`
    case negate
    /// `|x|`
    case abs
    /// `e^x`
    case exp
    /// Natural logarithm.
    case log
    /// Square root.
    case sqrt
    /// `x * x`
    case square
    /// `1 / x`
    case reciprocal
    /// Hyperbolic tangent.
    case tanh
    /// Logistic sigmoid `1 / (1 + e^-x)`, computed without overflow.
    case sigmoid
    /// `max(x, 0)`
    case relu
    /// `1` where `x > 0`, else `0` (the derivative of ReLU).
    case step
    /// `sign(x)`: -1, 0 or 1.
    case sign
    /// `x^p` for a fixed exponent `p`.
    case power(Scalar)
    /// `min(max(x, lower), upper)`
    case clamp(lower: Scalar, upper: Scalar)
    /// `x * a + b`
    case affine(scale: Scalar, shift: Scalar)
    /// `x` where `x > 0`, else `alpha * x`.
    case leakyRelu(alpha: Scalar)
    /// `log(1 + e^x)`, computed without overflow.
    case softplus
}

/// An elementwise operation of two operands, applied by ``TensorScalar/applyBinary(_:_:_:_:_:_:_:)``.
public enum BinaryOp: Sendable {
    /// `a + b`
    case add
    /// `a - b`
    case subtract
    /// `a * b`
    case multiply
    /// `a / b`
    case divide
    /// `max(a, b)`
    case maximum
    /// `min(a, b)`
    case minimum
    /// `a^b`
    case power
    /// `1` where `a == b`, else `0`.
    case equal
    /// `1` where `a < b`, else `0`.
    case less
    /// `1` where `a <= b`, else `0`.
    case lessEqual
    /// `1` where `a > b`, else `0`.
    case greater
    /// `1` where `a >= b`, else `0`.
    case greaterEqual
}

/// A reduction applied along a row by ``TensorScalar/reduce(_:_:_:)``.
public enum ReduceOp: Sendable {
    /// Sum of the elements.
    case sum
    /// Largest element.
    case max
    /// Smallest element.
    case min
}

/// The element types a ``Tensor`` can hold: `Float` (the default for training) and `Double`
/// (for gradient checking and users who need it).
///
/// The requirements are buffer-level kernels implemented concretely for each type, so generic
/// tensor code pays one dynamic call per buffer rather than per element, and the loops inside are
/// specialized and vectorized by the compiler.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, Codable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
    /// `out[i] = op(x[i])` for `i < count`. `x` and `out` may be the same buffer.
    static func applyUnary(
        _ op: UnaryOp<Self>, _ x: UnsafePointer<Self>, _ out: UnsafeMutablePointer<Self>, _ count: Int)

    /// `out[i] = op(a[i * aStride], b[i * bStride])` for `i < count`, with strides 0 or 1.
    static func applyBinary(
        _ op: BinaryOp, _ a: UnsafePointer<Self>, _ aStride: Int,
        _ b: UnsafePointer<Self>, _ bStride: Int, _ out: UnsafeMutablePointer<Self>, _ count: Int)

    /// Folds `x[0 ..< count]` into one value.
    static func reduce(_ op: ReduceOp, _ x: UnsafePointer<Self>, _ count: Int) -> Self

    /// `acc[i] = op(acc[i], x[i])` for `i < count` (the accumulating step of a reduction).
    static func accumulate(
        _ op: ReduceOp, _ acc: UnsafeMutablePointer<Self>, _ x: UnsafePointer<Self>, _ count: Int)

    /// General matrix multiply on row-major matrices through BLAS `?gemm`:
    /// `C = alpha * op(A) * op(B) + beta * C`, with `op(A)` of shape `m x k` and `op(B)` `k x n`.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// `y = alpha * x + y` through BLAS `?axpy`.
    static func axpy(count: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)

    /// `y[i * incy] = x[i * incx]` for `i < count` through BLAS `?copy`.
    static func copy(count: Int, _ x: UnsafePointer<Self>, _ incx: Int, _ y: UnsafeMutablePointer<Self>, _ incy: Int)

    /// Dot product through BLAS `?dot`.
    static func dot(count: Int, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self

    /// Natural exponential of one value.
    static func exp(_ x: Self) -> Self
    /// Natural logarithm of one value.
    static func log(_ x: Self) -> Self
    /// Hyperbolic tangent of one value.
    static func tanh(_ x: Self) -> Self
    /// `x` raised to `y`.
    static func pow(_ x: Self, _ y: Self) -> Self
    /// `log(1 + x)`, accurate for small `x`.
    static func log1p(_ x: Self) -> Self
}

// MARK: - Shared loop bodies, specialized into each conformance.

@inline(__always)
func unaryLoop<T: BinaryFloatingPoint>(
    _ op: UnaryOp<T>, _ x: UnsafePointer<T>, _ out: UnsafeMutablePointer<T>, _ count: Int,
    exp: (T) -> T, log: (T) -> T, tanh: (T) -> T, pow: (T, T) -> T, log1p: (T) -> T
) where T: TensorScalar {
    switch op {
    case .negate: for i in 0..<count { out[i] = -x[i] }
    case .abs: for i in 0..<count { out[i] = Swift.abs(x[i]) }
    case .exp: for i in 0..<count { out[i] = exp(x[i]) }
    case .log: for i in 0..<count { out[i] = log(x[i]) }
    case .sqrt: for i in 0..<count { out[i] = x[i].squareRoot() }
    case .square: for i in 0..<count { out[i] = x[i] * x[i] }
    case .reciprocal: for i in 0..<count { out[i] = 1 / x[i] }
    case .tanh: for i in 0..<count { out[i] = tanh(x[i]) }
    case .sigmoid:
        for i in 0..<count {
            let v = x[i]
            if v >= 0 {
                out[i] = 1 / (1 + exp(-v))
            } else {
                let e = exp(v)
                out[i] = e / (1 + e)
            }
        }
    case .relu: for i in 0..<count { out[i] = x[i] > 0 ? x[i] : 0 }
    case .step: for i in 0..<count { out[i] = x[i] > 0 ? 1 : 0 }
    case .sign: for i in 0..<count { out[i] = x[i] > 0 ? 1 : (x[i] < 0 ? -1 : 0) }
    case .power(let p):
        if p == 2 {
            for i in 0..<count { out[i] = x[i] * x[i] }
        } else if p == 1 {
            for i in 0..<count { out[i] = x[i] }
        } else {
            for i in 0..<count { out[i] = pow(x[i], p) }
        }
    case .clamp(let lower, let upper):
        for i in 0..<count { out[i] = Swift.min(Swift.max(x[i], lower), upper) }
    case .affine(let scale, let shift):
        for i in 0..<count { out[i] = x[i] * scale + shift }
    case .leakyRelu(let alpha):
        for i in 0..<count { out[i] = x[i] > 0 ? x[i] : alpha * x[i] }
    case .softplus:
        for i in 0..<count {
            let v = x[i]
            out[i] = Swift.max(v, 0) + log1p(exp(-Swift.abs(v)))
        }
    }
}

@inline(__always)
func binaryKernel<T: BinaryFloatingPoint>(
    _ a: UnsafePointer<T>, _ aStride: Int, _ b: UnsafePointer<T>, _ bStride: Int,
    _ out: UnsafeMutablePointer<T>, _ count: Int, _ f: (T, T) -> T
) {
    // Separate loops per stride pattern so each is a simple vectorizable loop.
    switch (aStride, bStride) {
    case (1, 1): for i in 0..<count { out[i] = f(a[i], b[i]) }
    case (1, 0): let s = b[0]; for i in 0..<count { out[i] = f(a[i], s) }
    case (0, 1): let s = a[0]; for i in 0..<count { out[i] = f(s, b[i]) }
    default: for i in 0..<count { out[i] = f(a[i * aStride], b[i * bStride]) }
    }
}

@inline(__always)
func binaryLoop<T: BinaryFloatingPoint>(
    _ op: BinaryOp, _ a: UnsafePointer<T>, _ aStride: Int, _ b: UnsafePointer<T>, _ bStride: Int,
    _ out: UnsafeMutablePointer<T>, _ count: Int, pow: (T, T) -> T
) {
    switch op {
    case .add: binaryKernel(a, aStride, b, bStride, out, count) { $0 + $1 }
    case .subtract: binaryKernel(a, aStride, b, bStride, out, count) { $0 - $1 }
    case .multiply: binaryKernel(a, aStride, b, bStride, out, count) { $0 * $1 }
    case .divide: binaryKernel(a, aStride, b, bStride, out, count) { $0 / $1 }
    case .maximum: binaryKernel(a, aStride, b, bStride, out, count) { $0 >= $1 || $0.isNaN ? $0 : $1 }
    case .minimum: binaryKernel(a, aStride, b, bStride, out, count) { $0 <= $1 || $0.isNaN ? $0 : $1 }
    case .power: binaryKernel(a, aStride, b, bStride, out, count) { pow($0, $1) }
    case .equal: binaryKernel(a, aStride, b, bStride, out, count) { $0 == $1 ? 1 : 0 }
    case .less: binaryKernel(a, aStride, b, bStride, out, count) { $0 < $1 ? 1 : 0 }
    case .lessEqual: binaryKernel(a, aStride, b, bStride, out, count) { $0 <= $1 ? 1 : 0 }
    case .greater: binaryKernel(a, aStride, b, bStride, out, count) { $0 > $1 ? 1 : 0 }
    case .greaterEqual: binaryKernel(a, aStride, b, bStride, out, count) { $0 >= $1 ? 1 : 0 }
    }
}

@inline(__always)
func reduceLoop<T: BinaryFloatingPoint>(_ op: ReduceOp, _ x: UnsafePointer<T>, _ count: Int) -> T {
    precondition(count > 0 || op == .sum, "cannot take the \(op) of an empty row")
    switch op {
    case .sum:
        // Pairwise-friendly: four independent accumulators vectorize and reduce rounding error.
        var s0: T = 0, s1: T = 0, s2: T = 0, s3: T = 0
        var i = 0
        while i + 4 <= count {
            s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]
            i += 4
        }
        while i < count { s0 += x[i]; i += 1 }
        return (s0 + s1) + (s2 + s3)
    case .max:
        var m = x[0]
        for i in 1..<Swift.max(count, 1) where x[i] > m || x[i].isNaN { m = x[i]; if m.isNaN { break } }
        return m
    case .min:
        var m = x[0]
        for i in 1..<Swift.max(count, 1) where x[i] < m || x[i].isNaN { m = x[i]; if m.isNaN { break } }
        return m
    }
}

@inline(__always)
func accumulateLoop<T: BinaryFloatingPoint>(
    _ op: ReduceOp, _ acc: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, _ count: Int
) {
    switch op {
    case .sum: for i in 0..<count { acc[i] += x[i] }
    case .max: for i in 0..<count where x[i] > acc[i] || x[i].isNaN { acc[i] = x[i] }
    case .min: for i in 0..<count where x[i] < acc[i] || x[i].isNaN { acc[i] = x[i] }
    }
}

// MARK: - Float

extension Float: TensorScalar {
    /// The arithmetic maps run the C kernels of `CKernels` (AVX-512 / AVX2 clones, the same results
    /// as the Swift loops); long buffers are split across cores.
    public static func applyUnary(
        _ op: UnaryOp<Float>, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        ElementwiseKernels.forEachRange(count, UnaryFloatLoop(
            op: op, kernel: ElementwiseKernels.unary(op), x: UncheckedSendable(x), out: UncheckedSendable(out)))
    }

    /// The arithmetic operations and maximum / minimum run the C kernels of `CKernels`; long
    /// buffers are split across cores.
    public static func applyBinary(
        _ op: BinaryOp, _ a: UnsafePointer<Float>, _ aStride: Int,
        _ b: UnsafePointer<Float>, _ bStride: Int, _ out: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        ElementwiseKernels.forEachRange(count, BinaryFloatLoop(
            op: op, kernel: ElementwiseKernels.binary(op), a: UncheckedSendable(a), aStride: aStride,
            b: UncheckedSendable(b), bStride: bStride, out: UncheckedSendable(out)))
    }

    public static func reduce(_ op: ReduceOp, _ x: UnsafePointer<Float>, _ count: Int) -> Float {
        reduceLoop(op, x, count)
    }

    public static func accumulate(
        _ op: ReduceOp, _ acc: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int
    ) {
        accumulateLoop(op, acc, x, count)
    }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        BLASInfo.prepare()
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        BLASInfo.prepare()
        cblas_saxpy(blasint(count), alpha, x, 1, y, 1)
    }

    public static func copy(
        count: Int, _ x: UnsafePointer<Float>, _ incx: Int, _ y: UnsafeMutablePointer<Float>, _ incy: Int
    ) {
        BLASInfo.prepare()
        cblas_scopy(blasint(count), x, blasint(incx), y, blasint(incy))
    }

    public static func dot(count: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        BLASInfo.prepare()
        return cblas_sdot(blasint(count), x, 1, y, 1)
    }

    public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    public static func log(_ x: Float) -> Float { Foundation.log(x) }
    public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
    public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
}

// MARK: - Double

extension Double: TensorScalar {
    public static func applyUnary(
        _ op: UnaryOp<Double>, _ x: UnsafePointer<Double>, _ out: UnsafeMutablePointer<Double>, _ count: Int
    ) {
        unaryLoop(op, x, out, count, exp: Foundation.exp, log: Foundation.log, tanh: Foundation.tanh,
                  pow: Foundation.pow, log1p: Foundation.log1p)
    }

    public static func applyBinary(
        _ op: BinaryOp, _ a: UnsafePointer<Double>, _ aStride: Int,
        _ b: UnsafePointer<Double>, _ bStride: Int, _ out: UnsafeMutablePointer<Double>, _ count: Int
    ) {
        binaryLoop(op, a, aStride, b, bStride, out, count, pow: Foundation.pow)
    }

    public static func reduce(_ op: ReduceOp, _ x: UnsafePointer<Double>, _ count: Int) -> Double {
        reduceLoop(op, x, count)
    }

    public static func accumulate(
        _ op: ReduceOp, _ acc: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ count: Int
    ) {
        accumulateLoop(op, acc, x, count)
    }

    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        BLASInfo.prepare()
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }

    public static func axpy(count: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        BLASInfo.prepare()
        cblas_daxpy(blasint(count), alpha, x, 1, y, 1)
    }

    public static func copy(
        count: Int, _ x: UnsafePointer<Double>, _ incx: Int, _ y: UnsafeMutablePointer<Double>, _ incy: Int
    ) {
        BLASInfo.prepare()
        cblas_dcopy(blasint(count), x, blasint(incx), y, blasint(incy))
    }

    public static func dot(count: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
        BLASInfo.prepare()
        return cblas_ddot(blasint(count), x, 1, y, 1)
    }

    public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    public static func log(_ x: Double) -> Double { Foundation.log(x) }
    public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
}

// MARK: - Float kernels

/// How Float's elementwise requirements reach the C kernels and the cores.
enum ElementwiseKernels {
    /// Elements per thread below which a map runs on one thread (256 KiB of Float).
    static let elementsPerThread = 1 << 16

    /// Calls `body` on `0..<count`, or on ranges of it in parallel when it is long.
    @inline(__always)
    static func forEachRange<Body: ParallelLoopBody>(_ count: Int, _ body: Body) {
        if count < 2 * elementsPerThread {
            if count > 0 { body(0..<count) }
        } else {
            Parallel.forEachRange(count, minimumPerThread: elementsPerThread, body)
        }
    }

    /// The C kernel of `op` and its two parameters, or `nil` for the maps that stay in Swift
    /// (those that call the math library).
    @inline(__always)
    static func unary(_ op: UnaryOp<Float>) -> (ck_unary_op, Float, Float)? {
        switch op {
        case .negate: return (CK_UNARY_NEGATE, 0, 0)
        case .abs: return (CK_UNARY_ABS, 0, 0)
        case .square: return (CK_UNARY_SQUARE, 0, 0)
        case .sqrt: return (CK_UNARY_SQRT, 0, 0)
        case .reciprocal: return (CK_UNARY_RECIPROCAL, 0, 0)
        case .relu: return (CK_UNARY_RELU, 0, 0)
        case .step: return (CK_UNARY_STEP, 0, 0)
        case .affine(let scale, let shift): return (CK_UNARY_AFFINE, scale, shift)
        case .clamp(let lower, let upper): return (CK_UNARY_CLAMP, lower, upper)
        case .leakyRelu(let alpha): return (CK_UNARY_LEAKY_RELU, alpha, 0)
        case .power(let p) where p == 2: return (CK_UNARY_SQUARE, 0, 0)
        case .exp, .log, .tanh, .sigmoid, .sign, .power, .softplus: return nil
        }
    }

    /// The C kernel of `op`, or `nil` for the operations that stay in Swift.
    @inline(__always)
    static func binary(_ op: BinaryOp) -> ck_binary_op? {
        switch op {
        case .add: return CK_BINARY_ADD
        case .subtract: return CK_BINARY_SUBTRACT
        case .multiply: return CK_BINARY_MULTIPLY
        case .divide: return CK_BINARY_DIVIDE
        case .maximum: return CK_BINARY_MAXIMUM
        case .minimum: return CK_BINARY_MINIMUM
        case .power, .equal, .less, .lessEqual, .greater, .greaterEqual: return nil
        }
    }
}

/// `Float.applyUnary`'s loop body: the C kernel of `op` (or the Swift loop for the maps that call
/// the math library) on a range of elements.
private struct UnaryFloatLoop: ParallelLoopBody {
    let op: UnaryOp<Float>
    let kernel: (ck_unary_op, Float, Float)?
    let x: UncheckedSendable<UnsafePointer<Float>>
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>

    func callAsFunction(_ range: Range<Int>) {
        let (xi, oi) = (x.value + range.lowerBound, out.value + range.lowerBound)
        if let (kind, p, q) = kernel {
            ck_unary_f32(kind, xi, oi, range.count, p, q)
        } else {
            unaryLoop(op, xi, oi, range.count, exp: Foundation.exp, log: Foundation.log, tanh: Foundation.tanh,
                      pow: Foundation.pow, log1p: Foundation.log1p)
        }
    }
}

/// `Float.applyBinary`'s loop body: the C kernel of `op` (or the Swift loop) on a range of elements.
private struct BinaryFloatLoop: ParallelLoopBody {
    let op: BinaryOp
    let kernel: ck_binary_op?
    let a: UncheckedSendable<UnsafePointer<Float>>
    let aStride: Int
    let b: UncheckedSendable<UnsafePointer<Float>>
    let bStride: Int
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>

    func callAsFunction(_ range: Range<Int>) {
        let i = range.lowerBound
        let (ai, bi, oi) = (a.value + i * aStride, b.value + i * bStride, out.value + i)
        if let kernel, (aStride == 0 || aStride == 1), (bStride == 0 || bStride == 1) {
            ck_binary_f32(kernel, ai, aStride, bi, bStride, oi, range.count)
        } else {
            binaryLoop(op, ai, aStride, bi, bStride, oi, range.count, pow: Foundation.pow)
        }
    }
}
