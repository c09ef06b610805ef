// Differentiable shape manipulation: each backward rule undoes its forward rearrangement.

extension Variable {
    /// The same elements with another shape (one dimension may be `-1`).
    public func reshaped(to newShape: [Int]) -> Variable {
        let inputShape = shape
        return Variable.record("reshape", value: value.reshaped(to: newShape), inputs: [self]) { g in
            [g.reshaped(to: inputShape)]
        }
    }

    /// `[batch, rest]`: every dimension after the first flattened (Keras `Flatten`).
    public func flattenedBatch() -> Variable {
        precondition(rank >= 1, "flattenedBatch: needs rank >= 1, got shape \(shape)")
        return reshaped(to: [shape[0], -1])
    }

    /// The axes reordered: result dimension `i` is dimension `axes[i]`.
    public func permuted(_ axes: [Int]) -> Variable {
        let normalized = axes.map { Tensor<Scalar>.normalizeAxis($0, rank: rank) }
        var inverse = [Int](repeating: 0, count: normalized.count)
        for (i, a) in normalized.enumerated() { inverse[a] = i }
        return Variable.record("permute", value: value.permuted(normalized), inputs: [self]) { g in
            [g.permuted(inverse)]
        }
    }

    /// The last two axes swapped.
    public func transposed() -> Variable {
        precondition(rank >= 2, "transposed: needs rank >= 2, got shape \(shape)")
        var axes = Array(0..<rank)
        axes.swapAt(rank - 1, rank - 2)
        return permuted(axes)
    }

    /// The elements with index in `range` along `axis`.
    public func slice(alongAxis axis: Int, _ range: Range<Int>) -> Variable {
        let inputShape = shape
        return Variable.record("slice", value: value.slice(alongAxis: axis, range), inputs: [self]) { g in
            var full = Tensor<Scalar>.zeros(inputShape)
            full.assign(g, alongAxis: axis, range)
            return [full]
        }
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed.
    public func selecting(_ index: Int, alongAxis axis: Int) -> Variable {
        let a = Tensor<Scalar>.normalizeAxis(axis, rank: rank)
        var newShape = shape
        newShape.remove(at: a)
        return slice(alongAxis: a, index..<(index + 1)).reshaped(to: newShape)
    }

    /// The variables joined along an existing axis.
    public static func concatenate(_ variables: [Variable], alongAxis axis: Int) -> Variable {
        let sizes = variables.map { $0.shape[Tensor<Scalar>.normalizeAxis(axis, rank: $0.rank)] }
        let value = Tensor.concatenate(variables.map(\.value), alongAxis: axis)
        return record("concatenate", value: value, inputs: variables) { g in
            g.split(sizes: sizes, alongAxis: axis)
        }
    }

    /// The variables, all of one shape, joined along a new axis.
    public static func stack(_ variables: [Variable], alongAxis axis: Int = 0) -> Variable {
        precondition(!variables.isEmpty, "stack: no variables")
        let a = Tensor<Scalar>.normalizeAxis(axis, rank: variables[0].rank + 1, operation: "stack")
        return concatenate(variables.map { $0.expandingShape(at: a) }, alongAxis: a)
    }

    /// Without the given size-1 axes (all of them when `nil`).
    public func squeezed(axes: [Int]? = nil) -> Variable {
        reshaped(to: value.squeezed(axes: axes).shape)
    }

    /// With a new size-1 axis at `axis`.
    public func expandingShape(at axis: Int) -> Variable {
        reshaped(to: value.expandingShape(at: axis).shape)
    }

    /// Repeated along broadcast axes to `targetShape`.
    public func broadcast(to targetShape: [Int]) -> Variable {
        let inputShape = shape
        return Variable.record("broadcast", value: value.broadcast(to: targetShape), inputs: [self]) { g in
            [g.sum(toShape: inputShape)]
        }
    }
}
