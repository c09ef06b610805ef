import CKernels

// Elementwise operations: unary maps and broadcasting binary operations.

extension Tensor {
    /// A tensor of the same shape with `op` applied to every element.
    public func map(_ op: UnaryOp<Scalar>) -> Tensor {
        Tensor.buildUninitialized(shape: shape) { out in
            withUnsafeBufferPointer { x in
                Scalar.applyUnary(op, x.baseAddress!, out, x.count)
            }
        }
    }

    /// `op` applied to every element of this tensor, written into `output` (same shape, every
    /// element overwritten) without allocating.
    public func map(_ op: UnaryOp<Scalar>, into output: inout Tensor) {
        precondition(shape == output.shape, "map(into:): input shape \(shape) differs from output shape \(output.shape)")
        withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { out in
                guard let source = x.baseAddress, let destination = out.baseAddress else { return }
                Scalar.applyUnary(op, source, destination, x.count)
            }
        }
    }

    /// Applies `op` to every element in place.
    public mutating func apply(_ op: UnaryOp<Scalar>) {
        scalars.withUnsafeMutableBufferPointer { out in
            guard let o = out.baseAddress else { return }
            Scalar.applyUnary(op, UnsafePointer(o), o, out.count)
        }
    }

    /// `op(self, other)` elementwise, broadcasting both operands with NumPy rules.
    /// Stops with a message naming both shapes when they do not broadcast.
    public func zip(_ other: Tensor, _ op: BinaryOp) -> Tensor {
        guard let outShape = Broadcasting.shape(shape, other.shape) else {
            preconditionFailure("\(op): shapes \(shape) and \(other.shape) do not broadcast")
        }
        return Tensor.buildUninitialized(shape: outShape) { out in
            self.withUnsafeBufferPointer { a in
                other.withUnsafeBufferPointer { b in
                    Self.broadcastBinary(op, a, shape, b, other.shape, out, outShape)
                }
            }
        }
    }

    /// `self = op(self, other)` in place; `other` must broadcast to `self`'s shape.
    public mutating func zipInPlace(_ other: Tensor, _ op: BinaryOp) {
        if shape == other.shape {
            // Equal shapes: one pass, and no shape arrays built (so no allocation).
            scalars.withUnsafeMutableBufferPointer { out in
                guard let o = out.baseAddress else { return }
                other.withUnsafeBufferPointer { b in Scalar.applyBinary(op, UnsafePointer(o), 1, b.baseAddress!, 1, o, out.count) }
            }
            return
        }
        guard Broadcasting.shape(shape, other.shape) == shape else {
            preconditionFailure("\(op) in place: shape \(other.shape) does not broadcast to \(shape)")
        }
        let myShape = shape
        scalars.withUnsafeMutableBufferPointer { out in
            guard let o = out.baseAddress else { return }
            other.withUnsafeBufferPointer { b in
                Self.broadcastBinary(op, UnsafeBufferPointer(out), myShape, b, other.shape, o, myShape)
            }
        }
    }

    static func broadcastBinary(
        _ op: BinaryOp, _ a: UnsafeBufferPointer<Scalar>, _ aShape: [Int],
        _ b: UnsafeBufferPointer<Scalar>, _ bShape: [Int],
        _ out: UnsafeMutablePointer<Scalar>, _ outShape: [Int]
    ) {
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return }
        let n = outShape.reduce(1, *)
        if aShape == bShape {
            Scalar.applyBinary(op, pa, 1, pb, 1, out, n)
            return
        }
        if b.count == 1 && aShape == outShape {
            Scalar.applyBinary(op, pa, 1, pb, 0, out, n)
            return
        }
        if a.count == 1 && bShape == outShape {
            Scalar.applyBinary(op, pa, 0, pb, 1, out, n)
            return
        }
        // Float, one operand a row repeated along the leading axes (a bias of the last axis): one
        // C kernel over all the rows, split across cores, instead of one call per row.
        if Scalar.self == Float.self, let kernel = ElementwiseKernels.binary(op) {
            let f = { (p: UnsafePointer<Scalar>) in UnsafePointer<Float>(OpaquePointer(p)) }
            let o = UnsafeMutablePointer<Float>(OpaquePointer(out))
            if aShape == outShape, let width = Broadcasting.repeatedRowWidth(bShape, in: outShape) {
                ElementwiseKernels.binaryRows(kernel, f(pa), row: f(pb), o, rows: n / width, width: width, rowIsLeft: false)
                return
            }
            if bShape == outShape, let width = Broadcasting.repeatedRowWidth(aShape, in: outShape) {
                ElementwiseKernels.binaryRows(kernel, f(pb), row: f(pa), o, rows: n / width, width: width, rowIsLeft: true)
                return
            }
        }
        let loop = StridedLoop(
            shape: outShape,
            strides: [Tensor.contiguousStrides(for: outShape),
                      Broadcasting.strides(of: aShape, broadcastTo: outShape),
                      Broadcasting.strides(of: bShape, broadcastTo: outShape)])
        let row = loop.rowLength
        let sa = loop.rowStride(1), sb = loop.rowStride(2)
        loop.forEachRow { oOut, oA, oB in
            Scalar.applyBinary(op, pa + oA, sa, pb + oB, sb, out + oOut, row)
        }
    }

    // MARK: Named elementwise functions

    /// `e^x` elementwise.
    public func exp() -> Tensor { map(.exp) }
    /// Natural logarithm elementwise.
    public func log() -> Tensor { map(.log) }
    /// Square root elementwise.
    public func sqrt() -> Tensor { map(.sqrt) }
    /// `x * x` elementwise.
    public func squared() -> Tensor { map(.square) }
    /// Absolute value elementwise.
    public func abs() -> Tensor { map(.abs) }
    /// Hyperbolic tangent elementwise.
    public func tanh() -> Tensor { map(.tanh) }
    /// Logistic sigmoid elementwise, without overflow for large `|x|`.
    public func sigmoid() -> Tensor { map(.sigmoid) }
    /// `max(x, 0)` elementwise.
    public func relu() -> Tensor { map(.relu) }
    /// `x` raised to a fixed power elementwise.
    public func pow(_ exponent: Scalar) -> Tensor { map(.power(exponent)) }
    /// `self` raised to `exponent` elementwise, broadcasting.
    public func pow(_ exponent: Tensor) -> Tensor { zip(exponent, .power) }
    /// Every element limited to `lower ... upper`.
    public func clamped(to range: ClosedRange<Scalar>) -> Tensor {
        map(.clamp(lower: range.lowerBound, upper: range.upperBound))
    }

    /// Elementwise maximum, broadcasting (NaN wins, as in NumPy's `maximum`).
    public func maximum(_ other: Tensor) -> Tensor { zip(other, .maximum) }
    /// Elementwise minimum, broadcasting (NaN wins, as in NumPy's `minimum`).
    public func minimum(_ other: Tensor) -> Tensor { zip(other, .minimum) }

    /// 1 where `self == other`, else 0, broadcasting.
    public func isEqual(to other: Tensor) -> Tensor { zip(other, .equal) }
    /// 1 where `self < other`, else 0, broadcasting.
    public func isLess(than other: Tensor) -> Tensor { zip(other, .less) }
    /// 1 where `self <= other`, else 0, broadcasting.
    public func isLessOrEqual(to other: Tensor) -> Tensor { zip(other, .lessEqual) }
    /// 1 where `self > other`, else 0, broadcasting.
    public func isGreater(than other: Tensor) -> Tensor { zip(other, .greater) }
    /// 1 where `self >= other`, else 0, broadcasting.
    public func isGreaterOrEqual(to other: Tensor) -> Tensor { zip(other, .greaterEqual) }

    /// Whether every element is finite (no NaN or infinity).
    public var isFinite: Bool { scalars.allSatisfy { $0.isFinite } }

    // MARK: Operators

    /// Elementwise sum, broadcasting.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zip(rhs, .add) }
    /// Elementwise difference, broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zip(rhs, .subtract) }
    /// Elementwise product, broadcasting.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zip(rhs, .multiply) }
    /// Elementwise quotient, broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.zip(rhs, .divide) }

    /// Adds a scalar to every element.
    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.map(.affine(scale: 1, shift: rhs)) }
    /// Subtracts a scalar from every element.
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.map(.affine(scale: 1, shift: -rhs)) }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.map(.affine(scale: rhs, shift: 0)) }
    /// Divides every element by a scalar.
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.zip(Tensor(rhs), .divide) }
    /// Adds a scalar to every element.
    public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { rhs + lhs }
    /// `lhs - x` for every element.
    public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.map(.affine(scale: -1, shift: lhs)) }
    /// Multiplies every element by a scalar.
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { rhs * lhs }
    /// `lhs / x` for every element.
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { Tensor(lhs).zip(rhs, .divide) }
    /// Elementwise negation.
    public static prefix func - (x: Tensor) -> Tensor { x.map(.negate) }

    /// Adds `rhs` (broadcast to `lhs`'s shape) in place.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, .add) }
    /// Subtracts `rhs` (broadcast to `lhs`'s shape) in place.
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, .subtract) }
    /// Multiplies by `rhs` (broadcast to `lhs`'s shape) in place.
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, .multiply) }
    /// Divides by `rhs` (broadcast to `lhs`'s shape) in place.
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.zipInPlace(rhs, .divide) }
    /// Multiplies every element by a scalar in place.
    public static func *= (lhs: inout Tensor, rhs: Scalar) { lhs.apply(.affine(scale: rhs, shift: 0)) }
}

/// The keep decisions of inverted dropout as a counter-based stream: element `i` of a tensor is
/// kept (and multiplied by `scale`) when its 32 random bits are `>= threshold`; hash `j` is the
/// SplitMix64 finalizer of `key + (j + 1) * 0x9E3779B97F4A7C15`, and elements `2j` and `2j + 1`
/// take its high and low 32 bits. A mask is a few numbers: the backward pass regenerates it.
package struct DropoutMask: Sendable, Equatable {
    /// The stream's key (one draw from the layer's generator).
    package let key: UInt64
    /// Kept when the element's bits are at least this (`ceil(rate * 2^32)`).
    package let threshold: UInt64
    /// The factor of kept elements, `1 / (1 - rate)` in Float.
    package let scale: Float

    /// The mask of `key`, `threshold` and `scale`.
    package init(key: UInt64, threshold: UInt64, scale: Float) {
        (self.key, self.threshold, self.scale) = (key, threshold, scale)
    }

    /// The C kernels' form.
    var kernelMask: ck_dropout_mask { ck_dropout_mask(key: key, threshold: threshold, scale: scale) }
}

extension DropoutMask {
    /// `out[i] = x[i] * (kept(i) ? scale : 0)` for the `count` elements of a tensor (element `i`
    /// of the stream at `x + i`), split across cores; the result does not depend on it. `x` and
    /// `out` must not overlap.
    package func apply(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        // Ranges of pairs, so every part starts at an even element.
        Parallel.forEachRange((n + 1) / 2, minimumPerThread: 1 << 14, DropoutLoop(
            x: UncheckedSendable(x), out: UncheckedSendable(out), count: n, mask: self))
    }
}

/// ``DropoutMask/apply(_:_:count:)``'s loop body: the C kernel on a range of element pairs.
private struct DropoutLoop: ParallelLoopBody {
    let x: UncheckedSendable<UnsafePointer<Float>>
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>
    let count: Int
    let mask: DropoutMask

    func callAsFunction(_ pairs: Range<Int>) {
        let first = 2 * pairs.lowerBound, end = Swift.min(2 * pairs.upperBound, count)
        ck_dropout_f32(x.value + first, out.value + first, first, end - first, mask.key, mask.threshold, mask.scale)
    }
}

extension Tensor where Scalar == Float {
    /// Inverted dropout in one pass: `self[i] * (kept(i) ? scale : 0)` with `mask`'s stream.
    /// Applying it with the same mask to a gradient is the backward pass, so no mask is stored.
    /// Split across cores; the result does not depend on it.
    package func droppingOut(_ mask: DropoutMask) -> Tensor {
        var output = Tensor.uninitialized(shape)
        droppingOut(mask, into: &output)
        return output
    }

    /// ``droppingOut(_:)`` into the caller-owned `output` (the same number of elements; every one
    /// overwritten), without allocating.
    package func droppingOut(_ mask: DropoutMask, into output: inout Tensor) {
        precondition(
            output.count == count, "droppingOut: output of shape \(output.shape) for an input of shape \(shape)")
        withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { o in
                guard let xp = x.baseAddress, let op = o.baseAddress else { return }
                mask.apply(xp, op, count: x.count)
            }
        }
    }
}

extension Broadcasting {
    /// The length of the row that `shape` repeats when broadcast to `target`: its size when, leading
    /// 1s removed, it is a proper suffix of `target` (`[C]` or `[1, 1, 1, C]` in `[N, H, W, C]`),
    /// else `nil`.
    static func repeatedRowWidth(_ shape: [Int], in target: [Int]) -> Int? {
        let suffix = Array(shape.drop { $0 == 1 })
        guard suffix.count < target.count, suffix == Array(target.suffix(suffix.count)) else { return nil }
        let width = suffix.reduce(1, *)
        return width > 0 ? width : nil
    }
}

extension ElementwiseKernels {
    /// `out[r, j] = op(a[r, j], row[j])`, or `op(row[j], a[r, j])` when `rowIsLeft`, split across cores.
    static func binaryRows(
        _ op: ck_binary_op, _ a: UnsafePointer<Float>, row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
        rows: Int, width: Int, rowIsLeft: Bool
    ) {
        Parallel.forEachRange(rows, minimumPerThread: Swift.max(1, elementsPerThread / width), BinaryRowsLoop(
            op: op, a: UncheckedSendable(a), row: UncheckedSendable(row), out: UncheckedSendable(out),
            width: width, rowIsLeft: rowIsLeft))
    }
}

/// ``ElementwiseKernels/binaryRows(_:_:row:_:rows:width:rowIsLeft:)``'s loop body: the C kernel on
/// a range of rows.
private struct BinaryRowsLoop: ParallelLoopBody {
    let op: ck_binary_op
    let a, row: UncheckedSendable<UnsafePointer<Float>>
    let out: UncheckedSendable<UnsafeMutablePointer<Float>>
    let width: Int
    let rowIsLeft: Bool

    func callAsFunction(_ range: Range<Int>) {
        let offset = range.lowerBound * width
        ck_binary_rows_f32(op, a.value + offset, row.value, out.value + offset, range.count, width, rowIsLeft ? 1 : 0)
    }
}
