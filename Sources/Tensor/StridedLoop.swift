/// Walks an n-dimensional index space in row-major order for up to three operands with their own
/// strides (a stride of 0 repeats an element: broadcasting or reduction), calling a body once per
/// innermost row. Adjacent dimensions that are contiguous for every operand are merged first, so
/// the rows are as long as possible and the body's inner loop stays simple.
struct StridedLoop {
    /// Dimensions after merging; the last one is the row.
    private(set) var shape: [Int]
    /// Strides per operand, aligned with `shape`.
    private(set) var strides: [[Int]]

    init(shape: [Int], strides: [[Int]]) {
        precondition(strides.allSatisfy { $0.count == shape.count })
        var mergedShape: [Int] = []
        var mergedStrides = [[Int]](repeating: [], count: strides.count)
        for axis in 0..<shape.count where shape[axis] != 1 {
            if let last = mergedShape.last,
               (0..<strides.count).allSatisfy({ mergedStrides[$0].last! == strides[$0][axis] * shape[axis] }) {
                mergedShape[mergedShape.count - 1] = last * shape[axis]
                for k in 0..<strides.count { mergedStrides[k][mergedStrides[k].count - 1] = strides[k][axis] }
            } else {
                mergedShape.append(shape[axis])
                for k in 0..<strides.count { mergedStrides[k].append(strides[k][axis]) }
            }
        }
        if mergedShape.isEmpty {
            mergedShape = [1]
            for k in 0..<strides.count { mergedStrides[k] = [0] }
        }
        self.shape = mergedShape
        self.strides = mergedStrides
    }

    /// Elements per row.
    var rowLength: Int { shape.last! }

    /// Stride of operand `k` along the row.
    func rowStride(_ k: Int) -> Int { strides[k].last! }

    /// Calls `body(offsets)` for every row with each operand's starting offset.
    func forEachRow(_ body: (_ o0: Int, _ o1: Int, _ o2: Int) -> Void) {
        let outerRank = shape.count - 1
        if shape.contains(0) { return }
        if outerRank == 0 {
            body(0, 0, 0)
            return
        }
        let k = strides.count
        func s(_ op: Int, _ axis: Int) -> Int { op < k ? strides[op][axis] : 0 }
        var index = [Int](repeating: 0, count: outerRank)
        var o0 = 0, o1 = 0, o2 = 0
        while true {
            body(o0, o1, o2)
            // Advance the odometer.
            var axis = outerRank - 1
            while axis >= 0 {
                index[axis] += 1
                o0 += s(0, axis); o1 += s(1, axis); o2 += s(2, axis)
                if index[axis] < shape[axis] { break }
                o0 -= s(0, axis) * shape[axis]; o1 -= s(1, axis) * shape[axis]; o2 -= s(2, axis) * shape[axis]
                index[axis] = 0
                axis -= 1
            }
            if axis < 0 { return }
        }
    }
}

/// Shapes and broadcasting rules shared by every elementwise operation.
public enum Broadcasting {
    /// The NumPy broadcast of two shapes, or `nil` when they are incompatible.
    public static func shape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                return nil
            }
        }
        return result
    }

    /// The NumPy broadcast of two shapes, throwing a message that names both when incompatible.
    public static func checkedShape(_ a: [Int], _ b: [Int], operation: String) throws -> [Int] {
        guard let s = shape(a, b) else {
            throw TensorError.shapeMismatch(operation: operation, lhs: a, rhs: b)
        }
        return s
    }

    /// Strides for reading a tensor of `shape` as if it had the broadcast shape `target`:
    /// 0 along axes it is repeated on.
    public static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        let offset = target.count - shape.count
        precondition(offset >= 0, "cannot broadcast shape \(shape) to \(target)")
        let own = Tensor<Float>.contiguousStrides(for: shape)
        return (0..<target.count).map { axis in
            if axis < offset { return 0 }
            let d = shape[axis - offset]
            precondition(d == target[axis] || d == 1, "cannot broadcast shape \(shape) to \(target)")
            return d == 1 && target[axis] != 1 ? 0 : own[axis - offset]
        }
    }
}
