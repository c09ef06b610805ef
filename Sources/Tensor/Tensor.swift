import CKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dense n-dimensional array of `Float` or `Double`, stored row-major (C order), with value
/// semantics: copies share storage until one of them is mutated (copy-on-write).
///
/// ```swift
/// let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// let b = a + Tensor<Float>([10, 20, 30])     // broadcasting, NumPy rules
/// let c = a.matmul(b.transposed())            // cblas_sgemm
/// ```
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The size of each dimension; `[]` for a scalar.
    public private(set) var shape: [Int]
    /// The elements in row-major order.
    public var scalars: [Scalar]

    /// Creates a tensor of `shape` from row-major `scalars`; the counts must agree.
    public init(shape: [Int], scalars: [Scalar]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor of `shape` from row-major `scalars`, throwing if the counts disagree
    /// (for data that comes from outside the program).
    public init(validatingShape shape: [Int], scalars: [Scalar]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidArgument(operation: "Tensor", message: "negative dimension in shape \(shape)")
        }
        guard shape.reduce(1, *) == scalars.count else {
            throw TensorError.shapeMismatch(operation: "Tensor(shape:scalars:)", lhs: shape, rhs: [scalars.count])
        }
        self.init(shape: shape, scalars: scalars)
    }

    /// A rank-0 tensor holding one value.
    public init(_ scalar: Scalar) {
        self.init(shape: [], scalars: [scalar])
    }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Scalar]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A rank-2 tensor from rows of equal length.
    public init(_ rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor: rows of unequal length")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// A tensor of the same values converted to another element type.
    public init<Other: TensorScalar>(_ other: Tensor<Other>) {
        self.init(shape: other.shape, scalars: other.scalars.map { Scalar($0) })
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }

    /// The number of elements.
    public var count: Int { scalars.count }

    /// Row-major strides in elements.
    public var strides: [Int] { Self.contiguousStrides(for: shape) }

    /// The single value of a tensor with one element.
    public var scalar: Scalar {
        precondition(count == 1, "Tensor.scalar: tensor of shape \(shape) has \(count) elements, not 1")
        return scalars[0]
    }

    /// The element at a full multi-dimensional index.
    public subscript(indices: Int...) -> Scalar {
        get { scalars[flatIndex(indices)] }
        set { scalars[flatIndex(indices)] = newValue }
    }

    /// Row-major strides for `shape`.
    public static func contiguousStrides(for shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// The offset in `scalars` of a full index, checked against the shape.
    public func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == rank, "Tensor: index \(indices) has \(indices.count) components for shape \(shape)")
        var offset = 0
        for axis in 0..<rank {
            let i = indices[axis]
            precondition(i >= 0 && i < shape[axis], "Tensor: index \(indices) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return offset
    }

    /// Resolves a possibly negative axis (`-1` is the last) against `rank`.
    public static func normalizeAxis(_ axis: Int, rank: Int, operation: String = "axis") -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < Swift.max(rank, 1), "\(operation): axis \(axis) out of range for rank \(rank)")
        return a
    }

    /// Calls `body` with the elements' storage.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with mutable storage (copying it first if it is shared).
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    /// A tensor of `shape` whose storage `body` fills, skipping the zero fill: `body` must write
    /// every element (for kernels that do, this saves a pass over memory).
    public static func buildUninitialized(shape: [Int], _ body: (UnsafeMutablePointer<Scalar>) throws -> Void) rethrows -> Tensor {
        let n = shape.reduce(1, *)
        let scalars = try [Scalar](unsafeUninitializedCapacity: n) { buffer, initialized in
            if let base = buffer.baseAddress, n > 0 { try body(base) }
            initialized = n
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// A tensor of `shape` whose storage `body` fills; the buffer starts zeroed (one `memset`).
    public static func build(shape: [Int], _ body: (UnsafeMutablePointer<Scalar>) throws -> Void) rethrows -> Tensor {
        try buildUninitialized(shape: shape) { base in
            zeroFill(base, count: shape.reduce(1, *))
            try body(base)
        }
    }
}

extension Tensor: Equatable {
    /// Exact equality of shape and every element.
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

extension Tensor: Codable {}

extension Tensor: CustomStringConvertible {
    /// A compact rendering: the shape and, for small tensors, the values.
    public var description: String {
        if count <= 64 {
            return "Tensor<\(Scalar.self)>\(shape) \(scalars)"
        }
        return "Tensor<\(Scalar.self)>\(shape) [\(scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")), ...]"
    }
}

/// Sets `count` elements at `pointer` to zero with one `memset` (all-zero bits are `0.0` for
/// `Float` and `Double`), initializing them if they were not.
@inline(__always)
func zeroFill<Scalar: TensorScalar>(_ pointer: UnsafeMutablePointer<Scalar>, count: Int) {
    guard count > 0 else { return }
    memset(pointer, 0, count * MemoryLayout<Scalar>.stride)
}

/// Scratch storage of `count` uninitialized elements for the duration of `body` (for buffers a
/// kernel overwrites completely before reading, such as im2col columns), 64-byte aligned.
///
/// The memory comes from the calling thread's scratch arena (`ck_scratch.h`), which keeps its
/// blocks from call to call: after the first pass through a sequence of kernels (a training
/// step) the same sequence needs no heap allocation. Calls may nest; each buffer is valid only
/// inside its `body`, on the calling thread.
@inline(__always)
package func withScratchBuffer<Scalar, R>(
    count: Int, _ body: (UnsafeMutablePointer<Scalar>) throws -> R
) rethrows -> R {
    let bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
    guard let raw = ck_scratch_push(bytes) else {
        fatalError("withScratchBuffer: out of memory for \(bytes) bytes of scratch")
    }
    defer { ck_scratch_pop(raw) }
    return try body(raw.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1)))
}
