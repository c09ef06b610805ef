// Shape manipulation: reshape, transpose and permute, slicing, concatenation, stacking,
// squeezing and expanding, broadcasting to a shape.

extension Tensor {
    /// The same elements viewed with another shape; one dimension may be `-1` (inferred).
    public func reshaped(to newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            precondition(newShape.filter { $0 == -1 }.count == 1, "reshape: more than one -1 in \(newShape)")
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        precondition(
            resolved.reduce(1, *) == count && resolved.allSatisfy { $0 >= 0 },
            "reshape: cannot reshape \(shape) (\(count) elements) to \(newShape)")
        return Tensor(shape: resolved, scalars: scalars)
    }

    /// A rank-2 tensor `[shape[0], rest]` (batch first).
    public func flattenedBatch() -> Tensor {
        precondition(rank >= 1, "flattenedBatch: needs rank >= 1, got shape \(shape)")
        return reshaped(to: [shape[0], -1])
    }

    /// The axes reordered: result dimension `i` is this tensor's dimension `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(
            axes.count == rank && Set(axes.map { Tensor.normalizeAxis($0, rank: rank) }).count == rank,
            "permute: \(axes) is not a permutation of the axes of shape \(shape)")
        let axes = axes.map { Tensor.normalizeAxis($0, rank: rank) }
        if axes == Array(0..<rank) { return self }
        let newShape = axes.map { shape[$0] }
        let source = strides
        let loop = StridedLoop(
            shape: newShape, strides: [Tensor.contiguousStrides(for: newShape), axes.map { source[$0] }])
        let row = loop.rowLength, inStride = loop.rowStride(1)
        return Tensor.buildUninitialized(shape: newShape) { out in
            withUnsafeBufferPointer { input in
                guard let x = input.baseAddress else { return }
                loop.forEachRow { oOut, oIn, _ in
                    Scalar.copy(count: row, x + oIn, inStride, out + oOut, 1)
                }
            }
        }
    }

    /// The last two axes swapped (the matrix transpose for rank 2).
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed: needs rank >= 2, got shape \(shape)")
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuted(axes)
    }

    /// The elements with index in `range` along `axis`.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Tensor {
        let a = Tensor.normalizeAxis(axis, rank: rank, operation: "slice")
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[a],
            "slice: range \(range) out of bounds for axis \(axis) of shape \(shape)")
        var newShape = shape
        newShape[a] = range.count
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        let block = range.count * inner
        return Tensor.buildUninitialized(shape: newShape) { out in
            withUnsafeBufferPointer { input in
                guard let x = input.baseAddress, block > 0 else { return }
                for o in 0..<outer {
                    (out + o * block).update(from: x + (o * shape[a] + range.lowerBound) * inner, count: block)
                }
            }
        }
    }

    /// Writes `value` into the elements with index in `range` along `axis`
    /// (the inverse of ``slice(alongAxis:_:)``).
    public mutating func assign(_ value: Tensor, alongAxis axis: Int, _ range: Range<Int>) {
        let a = Tensor.normalizeAxis(axis, rank: rank, operation: "assign")
        var expected = shape
        expected[a] = range.count
        precondition(
            range.lowerBound >= 0 && range.upperBound <= shape[a] && value.shape == expected,
            "assign: value of shape \(value.shape) does not fit range \(range) on axis \(axis) of shape \(shape)")
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        let block = range.count * inner
        let axisSize = shape[a]
        scalars.withUnsafeMutableBufferPointer { out in
            value.withUnsafeBufferPointer { v in
                guard let o = out.baseAddress, let src = v.baseAddress, block > 0 else { return }
                for i in 0..<outer {
                    (o + (i * axisSize + range.lowerBound) * inner).update(from: src + i * block, count: block)
                }
            }
        }
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed.
    public func selecting(_ index: Int, alongAxis axis: Int) -> Tensor {
        let a = Tensor.normalizeAxis(axis, rank: rank, operation: "select")
        var newShape = shape
        newShape.remove(at: a)
        return slice(alongAxis: a, index..<(index + 1)).reshaped(to: newShape)
    }

    /// The sub-tensor at `index` of the first axis (`t[i]` in NumPy).
    public subscript(index: Int) -> Tensor {
        selecting(index, alongAxis: 0)
    }

    /// The tensors joined along an existing `axis`; all other dimensions must agree.
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0]
        let a = Tensor.normalizeAxis(axis, rank: first.rank, operation: "concatenate")
        for t in tensors {
            var s1 = t.shape, s0 = first.shape
            precondition(s1.count == s0.count, "concatenate: shapes \(first.shape) and \(t.shape) differ in rank")
            s1[a] = 0; s0[a] = 0
            precondition(s1 == s0, "concatenate: shapes \(first.shape) and \(t.shape) differ off axis \(axis)")
        }
        var newShape = first.shape
        newShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        var result = Tensor.zeros(newShape)
        var start = 0
        for t in tensors {
            result.assign(t, alongAxis: a, start..<(start + t.shape[a]))
            start += t.shape[a]
        }
        return result
    }

    /// The tensors, all of one shape, joined along a new `axis`.
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        let shape0 = tensors[0].shape
        for t in tensors {
            precondition(t.shape == shape0, "stack: shapes \(shape0) and \(t.shape) differ")
        }
        let a = Tensor.normalizeAxis(axis, rank: shape0.count + 1, operation: "stack")
        var expanded = shape0
        expanded.insert(1, at: a)
        return concatenate(tensors.map { $0.reshaped(to: expanded) }, alongAxis: a)
    }

    /// The tensor split into pieces of the given sizes along `axis` (the inverse of concatenate).
    public func split(sizes: [Int], alongAxis axis: Int) -> [Tensor] {
        let a = Tensor.normalizeAxis(axis, rank: rank, operation: "split")
        precondition(sizes.reduce(0, +) == shape[a], "split: sizes \(sizes) do not add up to axis \(axis) of \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return slice(alongAxis: a, start..<(start + size))
        }
    }

    /// The tensor without the given size-1 axes (every size-1 axis when `nil`).
    public func squeezed(axes: [Int]? = nil) -> Tensor {
        let remove: Set<Int>
        if let axes {
            remove = Set(axes.map { Tensor.normalizeAxis($0, rank: rank, operation: "squeeze") })
            for a in remove {
                precondition(shape[a] == 1, "squeeze: axis \(a) of shape \(shape) has size \(shape[a]), not 1")
            }
        } else {
            remove = Set(shape.indices.filter { shape[$0] == 1 })
        }
        return reshaped(to: shape.indices.filter { !remove.contains($0) }.map { shape[$0] })
    }

    /// The tensor with a new size-1 axis inserted at `axis` (`unsqueeze` in PyTorch).
    public func expandingShape(at axis: Int) -> Tensor {
        let a = Tensor.normalizeAxis(axis, rank: rank + 1, operation: "expand")
        var newShape = shape
        newShape.insert(1, at: a)
        return reshaped(to: newShape)
    }

    /// The sub-tensors at `indices` along the first axis, in that order (repeats allowed): how a
    /// shuffled mini-batch is taken from a data set (`x[indices]` in NumPy).
    public func gathering(_ indices: [Int]) -> Tensor {
        precondition(rank >= 1, "gathering: needs rank >= 1, got shape \(shape)")
        let rowSize = shape.dropFirst().reduce(1, *)
        var newShape = shape
        newShape[0] = indices.count
        return Tensor.buildUninitialized(shape: newShape) { out in
            withUnsafeBufferPointer { input in
                guard let x = input.baseAddress, rowSize > 0 else { return }
                for (i, index) in indices.enumerated() {
                    precondition(index >= 0 && index < shape[0], "gathering: index \(index) out of range for shape \(shape)")
                    (out + i * rowSize).update(from: x + index * rowSize, count: rowSize)
                }
            }
        }
    }

    /// The tensor repeated along broadcast axes to `targetShape` (NumPy `broadcast_to`).
    public func broadcast(to targetShape: [Int]) -> Tensor {
        guard Broadcasting.shape(shape, targetShape) == targetShape else {
            preconditionFailure("broadcast: shape \(shape) does not broadcast to \(targetShape)")
        }
        if shape == targetShape { return self }
        return Tensor.zeros(targetShape) + self
    }
}
