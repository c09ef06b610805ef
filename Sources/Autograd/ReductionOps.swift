// Differentiable reductions along any axes.

extension Variable {
    /// Sum along `axes` (every axis when `nil`).
    public func sum(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let inputShape = shape
        let y = value.sum(alongAxes: axes, keepDims: true)
        let keptShape = y.shape
        let out = keepDims ? y : y.reshaped(to: value.shapeAfterReducing(axes, keepDims: false))
        return Variable.record("sum", value: out, inputs: [self]) { g in
            [g.reshaped(to: keptShape).broadcast(to: inputShape)]
        }
    }

    /// Mean along `axes` (every axis when `nil`).
    public func mean(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        let n = value.count / Swift.max(value.shapeAfterReducing(axes, keepDims: true).reduce(1, *), 1)
        return sum(alongAxes: axes, keepDims: keepDims) * (1 / Scalar(Swift.max(n, 1)))
    }

    /// Largest element along `axes`; the gradient is shared equally among tied maxima.
    public func max(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        extremum("max", value.max(alongAxes: axes, keepDims: true), axes: axes, keepDims: keepDims)
    }

    /// Smallest element along `axes`; the gradient is shared equally among tied minima.
    public func min(alongAxes axes: [Int]? = nil, keepDims: Bool = false) -> Variable {
        extremum("min", value.min(alongAxes: axes, keepDims: true), axes: axes, keepDims: keepDims)
    }

    private func extremum(_ name: String, _ kept: Tensor<Scalar>, axes: [Int]?, keepDims: Bool) -> Variable {
        let x = value
        let out = keepDims ? kept : kept.reshaped(to: value.shapeAfterReducing(axes, keepDims: false))
        return Variable.record(name, value: out, inputs: [self]) { g in
            let mask = x.isEqual(to: kept)
            let ties = mask.sum(alongAxes: axes, keepDims: true)
            return [mask * (g.reshaped(to: kept.shape) / ties)]
        }
    }

    /// Population variance along `axes` (`correction` 1 gives the sample variance).
    public func variance(alongAxes axes: [Int]? = nil, keepDims: Bool = false, correction: Int = 0) -> Variable {
        let n = value.count / Swift.max(value.shapeAfterReducing(axes, keepDims: true).reduce(1, *), 1)
        let centered = self - mean(alongAxes: axes, keepDims: true)
        return centered.squared().sum(alongAxes: axes, keepDims: keepDims) * (1 / Scalar(n - correction))
    }
}
