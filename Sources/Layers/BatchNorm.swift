/// Batch normalization (Keras `BatchNormalization`): normalizes each channel to zero mean and unit
/// variance, then scales by `gamma` and shifts by `beta`.
///
/// In training mode the layer normalizes with the mean and the biased variance of the batch over
/// every axis except the channel axis, and updates its moving statistics as Keras does:
/// `moving = moving * momentum + batch * (1 - momentum)` (the moving variance is updated with the
/// same biased batch variance). In inference mode it normalizes with the moving statistics:
///
///     y = gamma * (x - mean) / sqrt(variance + epsilon) + beta
///
/// `gamma` and `beta` are trainable; `moving_mean` and `moving_variance` are not (their variables
/// do not require gradients and are updated outside the gradient graph). The forward pass and its
/// backward rule are one fused operation with the closed-form gradient through the batch statistics.
public final class BatchNorm<Scalar: TensorScalar>: Layer {
    public var name: String
    public var typeName: String { "BatchNormalization" }
    public private(set) var builtInputShape: [Int]?

    /// The channel axis of the batched input (Keras's `axis`, counting the batch axis as 0; `-1`
    /// is the last axis, the channels of an NHWC tensor).
    public let axis: Int
    /// The weight of the old value in the moving-statistics update (Keras default 0.99).
    public let momentum: Double
    /// Added to the variance before the square root (Keras default 1e-3).
    public let epsilon: Double
    /// Whether the normalized value is shifted by `beta`.
    public let center: Bool
    /// Whether the normalized value is multiplied by `gamma`.
    public let scale: Bool
    /// How `beta` starts (Keras default: zeros).
    public let betaInitializer: Initializer
    /// How `gamma` starts (Keras default: ones).
    public let gammaInitializer: Initializer
    /// How the moving mean starts (Keras default: zeros).
    public let movingMeanInitializer: Initializer
    /// How the moving variance starts (Keras default: ones).
    public let movingVarianceInitializer: Initializer

    /// `[channels]`, once built (when `scale`).
    public private(set) var gamma: Variable<Scalar>?
    /// `[channels]`, once built (when `center`).
    public private(set) var beta: Variable<Scalar>?
    /// `[channels]`, once built; not trainable.
    public private(set) var movingMean: Variable<Scalar>?
    /// `[channels]`, once built; not trainable.
    public private(set) var movingVariance: Variable<Scalar>?

    /// A batch-normalization layer with Keras's defaults.
    public init(
        axis: Int = -1, momentum: Double = 0.99, epsilon: Double = 1e-3, center: Bool = true, scale: Bool = true,
        betaInitializer: Initializer = .zeros, gammaInitializer: Initializer = .ones,
        movingMeanInitializer: Initializer = .zeros, movingVarianceInitializer: Initializer = .ones,
        name: String = ""
    ) {
        precondition(axis != 0, "BatchNorm: axis 0 is the batch axis; use -1 (channels last) or an axis >= 1")
        precondition(epsilon > 0, "BatchNorm: epsilon must be positive, got \(epsilon)")
        self.axis = axis
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.betaInitializer = betaInitializer
        self.gammaInitializer = gammaInitializer
        self.movingMeanInitializer = movingMeanInitializer
        self.movingVarianceInitializer = movingVarianceInitializer
        self.name = name
    }

    /// The channel axis within a batched shape of rank `rank`, or `nil` when out of range or the batch axis.
    private func channelAxis(rank: Int) -> Int? {
        let a = axis < 0 ? axis + rank : axis
        return a >= 1 && a < rank ? a : nil
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard let a = channelAxis(rank: inputShape.count + 1), inputShape[a - 1] > 0 else {
            throw LayerError.incompatibleShape(
                layer: "BatchNormalization '\(name)'", expected: "a known channel dimension at axis \(axis)", got: inputShape)
        }
        if let built = builtInputShape,
           built.count != inputShape.count || built[a - 1] != inputShape[a - 1] {
            throw LayerError.shapeMismatch(operation: "BatchNormalization '\(name)'", expected: built, got: inputShape)
        }
        return inputShape
    }

    public func build(inputShape: [Int], generator: inout SeededGenerator) throws {
        _ = try outputShape(for: inputShape)
        if builtInputShape != nil { return }
        let channels = inputShape[channelAxis(rank: inputShape.count + 1)! - 1]
        if scale {
            gamma = Variable(gammaInitializer.make([channels], generator: &generator), requiresGradient: true)
        }
        if center {
            beta = Variable(betaInitializer.make([channels], generator: &generator), requiresGradient: true)
        }
        movingMean = Variable(movingMeanInitializer.make([channels], generator: &generator), requiresGradient: false)
        movingVariance = Variable(
            movingVarianceInitializer.make([channels], generator: &generator), requiresGradient: false)
        builtInputShape = inputShape
    }

    public var weights: [LayerWeight<Scalar>] {
        var result: [LayerWeight<Scalar>] = []
        if let gamma { result.append(LayerWeight(name: "gamma", variable: gamma, isTrainable: true)) }
        if let beta { result.append(LayerWeight(name: "beta", variable: beta, isTrainable: true)) }
        if let movingMean { result.append(LayerWeight(name: "moving_mean", variable: movingMean, isTrainable: false)) }
        if let movingVariance {
            result.append(LayerWeight(name: "moving_variance", variable: movingVariance, isTrainable: false))
        }
        return result
    }

    public func forward(_ input: Variable<Scalar>, context: inout ForwardContext) -> Variable<Scalar> {
        forward(input, context: &context, applyingReLU: false)
    }

    /// Per channel for the given variances: `beta` (0 without one), `1 / sqrt(variance + epsilon)`,
    /// and the normalization's factor, `gamma` (1 without one) times that.
    func normalization(variance: [Double]) -> (beta: [Double], invStd: [Double], factor: [Double]) {
        let channels = variance.count
        let gammaValues = gamma.map { $0.value.scalars.map { Double($0) } } ?? [Double](repeating: 1, count: channels)
        let betaValues = beta.map { $0.value.scalars.map { Double($0) } } ?? [Double](repeating: 0, count: channels)
        var invStd = [Double](repeating: 0, count: channels), factor = invStd
        for c in 0..<channels {
            invStd[c] = 1 / (variance[c] + epsilon).squareRoot()
            factor[c] = gammaValues[c] * invStd[c]
        }
        return (betaValues, invStd, factor)
    }

    /// The layer's forward pass, followed by `max(_, 0)` in the same pass when `applyingReLU`
    /// (what a ``Sequential`` runs for a batch normalization directly followed by a plain ReLU):
    /// the same values and gradients as the two layers one after the other (a NaN becomes 0, as in
    /// the ``ReLU`` layer), without the intermediate tensor.
    func forward(_ input: Variable<Scalar>, context: inout ForwardContext, applyingReLU: Bool) -> Variable<Scalar> {
        let built = requireBuilt()
        guard let movingMean, let movingVariance else { preconditionFailure("BatchNormalization '\(name)': no moving statistics") }
        let a = channelAxis(rank: built.count + 1)!
        precondition(
            input.rank == built.count + 1 && input.shape[a] == built[a - 1],
            "BatchNormalization '\(name)': input shape \(input.shape) does not match the built shape \(built) "
                + "(channels \(built[a - 1]) at axis \(a))")
        let layout = ChannelLayout(shape: input.shape, axis: a)
        let x = input.value
        let channels = layout.channels

        // The statistics used for normalizing.
        var mean: [Double], variance: [Double]
        if context.isTraining {
            (mean, variance) = channelMoments(x, layout)
            let m = Scalar(momentum), oneMinus = Scalar(1 - momentum)
            let batchMean = Tensor<Scalar>(shape: [channels], scalars: mean.map { Scalar($0) })
            let batchVariance = Tensor<Scalar>(shape: [channels], scalars: variance.map { Scalar($0) })
            movingMean.value = movingMean.value * m + batchMean * oneMinus
            movingVariance.value = movingVariance.value * m + batchVariance * oneMinus
        } else {
            mean = movingMean.value.scalars.map { Double($0) }
            variance = movingVariance.value.scalars.map { Double($0) }
        }

        let (betaValues, invStd, factor) = normalization(variance: variance)
        // y = (x - mean) * factor + beta, then max(_, 0) when applyingReLU.
        let y = channelAffine(
            x, layout, shift: mean, factor: factor, offset: betaValues, gradient: nil, gradientFactor: nil,
            applyingReLU: applyingReLU)

        let inputs = [input] + (gamma.map { [$0] } ?? []) + (beta.map { [$0] } ?? [])
        let training = context.isTraining
        let hasGamma = gamma != nil, hasBeta = beta != nil
        let operation = (training ? "batchNormTraining" : "batchNormInference") + (applyingReLU ? "+relu" : "")
        // Through the ReLU first: the gradient where the output is positive, else 0.
        let relu = applyingReLU ? FusedReLU(output: y, shift: mean, factor: factor, offset: betaValues) : nil
        return Variable.record(operation, value: y, inputs: inputs) { g in
            // dbeta = sum g, dgamma = sum g * xhat with xhat = (x - mean) * invStd.
            let (sumG, sumGX) = channelGradientSums(g, x, layout, shift: mean, relu: relu)
            var dGamma = [Double](repeating: 0, count: channels)
            for c in 0..<channels { dGamma[c] = sumGX[c] * invStd[c] }
            // Inference: dx = factor * g. Training (the batch statistics depend on x):
            // dx = factor * (g - dbeta / m - xhat * dgamma / m)
            //    = factor * g - (x - mean) * (factor * invStd * dgamma / m) - factor * dbeta / m.
            var slope = [Double](repeating: 0, count: channels)
            var shiftTerm = [Double](repeating: 0, count: channels)
            if training {
                let m = Double(layout.perChannel)
                for c in 0..<channels {
                    slope[c] = -factor[c] * invStd[c] * dGamma[c] / m
                    shiftTerm[c] = -factor[c] * sumG[c] / m
                }
            }
            let dx = channelAffine(
                x, layout, shift: mean, factor: slope, offset: shiftTerm, gradient: g, gradientFactor: factor,
                relu: relu)
            var result: [Tensor<Scalar>?] = [dx]
            if hasGamma { result.append(Tensor(shape: [channels], scalars: dGamma.map { Scalar($0) })) }
            if hasBeta { result.append(Tensor(shape: [channels], scalars: sumG.map { Scalar($0) })) }
            return result
        }
    }
}

// MARK: - Per-channel kernels
//
// A tensor is viewed as `[outer, channels, inner]` around the channel axis. For channels last
// (`inner == 1`) the loops run along each contiguous row of channels, so they vectorize across
// channels; otherwise they run over the contiguous `inner` block of each channel. Statistics are
// accumulated in Double for both element types. The generic entry points dispatch once per call to
// kernels specialized for Float and Double.

/// The `[outer, channels, inner]` view of a shape around its channel axis.
struct ChannelLayout {
    let outer: Int
    let channels: Int
    let inner: Int

    init(shape: [Int], axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        channels = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }

    /// The number of elements per channel.
    var perChannel: Int { outer * inner }
}

/// The per-channel mean and biased variance (two passes: the mean, then the centered sums of
/// squares with the rounding correction of the corrected two-pass algorithm).
func channelMoments<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ layout: ChannelLayout) -> (mean: [Double], variance: [Double]) {
    if Scalar.self == Float.self, layout.inner == 1, layout.perChannel > 0 {
        return x.withUnsafeBufferPointer { xb in
            BatchNormKernels.moments(UnsafePointer<Float>(OpaquePointer(xb.baseAddress!)), rows: layout.outer, channels: layout.channels)
        }
    }
    let channels = layout.channels
    let m = Double(layout.perChannel)
    var mean = [Double](repeating: 0, count: channels)
    var centered = [Double](repeating: 0, count: channels)
    var squares = [Double](repeating: 0, count: channels)
    x.withUnsafeBufferPointer { xb in
        guard let xp = xb.baseAddress else { return }
        let zero = [Double](repeating: 0, count: channels)
        var scratch = [Double](repeating: 0, count: channels)
        dispatchSums(xp, layout, shift: zero, sum: &mean, sumOfSquares: &scratch)
        for c in 0..<channels { mean[c] /= m }
        dispatchSums(xp, layout, shift: mean, sum: &centered, sumOfSquares: &squares)
    }
    var variance = [Double](repeating: 0, count: channels)
    for c in 0..<channels {
        variance[c] = Swift.max(0, (squares[c] - centered[c] * centered[c] / m) / m)
    }
    return (mean, variance)
}

private func dispatchSums<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, _ layout: ChannelLayout, shift: [Double],
    sum: inout [Double], sumOfSquares: inout [Double]
) {
    shift.withUnsafeBufferPointer { s in
        sum.withUnsafeMutableBufferPointer { sp in
            sumOfSquares.withUnsafeMutableBufferPointer { qp in
                if Scalar.self == Float.self {
                    channelSumsKernel(UnsafePointer<Float>(OpaquePointer(x)), layout, s.baseAddress!, sp.baseAddress!, qp.baseAddress!)
                } else if Scalar.self == Double.self {
                    channelSumsKernel(UnsafePointer<Double>(OpaquePointer(x)), layout, s.baseAddress!, sp.baseAddress!, qp.baseAddress!)
                } else {
                    channelSumsKernel(x, layout, s.baseAddress!, sp.baseAddress!, qp.baseAddress!)
                }
            }
        }
    }
}

/// The ReLU fused after a batch normalization, as its backward pass needs it: the output (the
/// Swift loops mask the gradient with `output > 0`) and the normalization's affine map (the Float
/// channels-last kernels recompute `map(x) > 0` from `x`, with the same Float arithmetic as the
/// forward pass, instead of reading the output).
struct FusedReLU<Scalar: TensorScalar> {
    let output: Tensor<Scalar>
    let shift: [Double]
    let factor: [Double]
    let offset: [Double]

    /// The affine map in the Float parameters the forward kernel ran with.
    var floatMap: BatchNormKernels.AffineMap {
        BatchNormKernels.AffineMap(
            shift: shift.map { Float($0) }, factor: factor.map { Float($0) }, offset: offset.map { Float($0) })
    }
}

/// Per channel: the sums of `g` and of `g * (x - shift)`, with `g` first taken through `relu`
/// when that is given (0 where its output is not positive).
func channelGradientSums<Scalar: TensorScalar>(
    _ g: Tensor<Scalar>, _ x: Tensor<Scalar>, _ layout: ChannelLayout, shift: [Double], relu: FusedReLU<Scalar>? = nil
) -> (sumG: [Double], sumGX: [Double]) {
    precondition(g.shape == x.shape, "batchNorm backward: gradient shape \(g.shape) differs from input shape \(x.shape)")
    if Scalar.self == Float.self, layout.inner == 1, layout.perChannel > 0 {
        return g.withUnsafeBufferPointer { gb in
            x.withUnsafeBufferPointer { xb in
                BatchNormKernels.gradientSums(
                    UnsafePointer<Float>(OpaquePointer(gb.baseAddress!)), UnsafePointer<Float>(OpaquePointer(xb.baseAddress!)),
                    relu: relu?.floatMap, rows: layout.outer, channels: layout.channels, shift: shift)
            }
        }
    }
    if let relu {
        return channelGradientSums(Tensor.reluBackward(gradient: g, output: relu.output), x, layout, shift: shift)
    }
    var sumG = [Double](repeating: 0, count: layout.channels)
    var sumGX = [Double](repeating: 0, count: layout.channels)
    g.withUnsafeBufferPointer { gb in
        x.withUnsafeBufferPointer { xb in
            shift.withUnsafeBufferPointer { s in
                sumG.withUnsafeMutableBufferPointer { sg in
                    sumGX.withUnsafeMutableBufferPointer { sgx in
                        guard let gp = gb.baseAddress, let xp = xb.baseAddress else { return }
                        if Scalar.self == Float.self {
                            channelGradientSumsKernel(
                                UnsafePointer<Float>(OpaquePointer(gp)), UnsafePointer<Float>(OpaquePointer(xp)), layout,
                                s.baseAddress!, sg.baseAddress!, sgx.baseAddress!)
                        } else if Scalar.self == Double.self {
                            channelGradientSumsKernel(
                                UnsafePointer<Double>(OpaquePointer(gp)), UnsafePointer<Double>(OpaquePointer(xp)), layout,
                                s.baseAddress!, sg.baseAddress!, sgx.baseAddress!)
                        } else {
                            channelGradientSumsKernel(gp, xp, layout, s.baseAddress!, sg.baseAddress!, sgx.baseAddress!)
                        }
                    }
                }
            }
        }
    }
    return (sumG, sumGX)
}

/// `out = (x - shift[c]) * factor[c] + offset[c]`, plus `g * gradientFactor[c]` when `gradient` is
/// given (with `g` first taken through `relu` when that is given too); then, when `applyingReLU`
/// (a forward pass, no gradient), `out` replaced by `out > 0 ? out : 0`.
func channelAffine<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, _ layout: ChannelLayout, shift: [Double], factor: [Double], offset: [Double],
    gradient: Tensor<Scalar>?, gradientFactor: [Double]?, applyingReLU: Bool = false, relu: FusedReLU<Scalar>? = nil
) -> Tensor<Scalar> {
    let s = shift.map { Scalar($0) }, f = factor.map { Scalar($0) }, o = offset.map { Scalar($0) }
    let gf = gradientFactor.map { $0.map { Scalar($0) } } ?? []
    if let gradient {
        precondition(
            gradient.shape == x.shape, "batchNorm backward: gradient shape \(gradient.shape) differs from input shape \(x.shape)")
    }
    if Scalar.self == Float.self, layout.inner == 1, layout.perChannel > 0 {
        return x.withUnsafeBufferPointer { xb in
            (gradient ?? x).withUnsafeBufferPointer { gb in
                Tensor<Scalar>.buildUninitialized(shape: x.shape) { out in
                    let xp = UnsafePointer<Float>(OpaquePointer(xb.baseAddress!))
                    let op = UnsafeMutablePointer<Float>(OpaquePointer(out))
                    let map = BatchNormKernels.AffineMap(
                        shift: shift.map { Float($0) }, factor: factor.map { Float($0) }, offset: offset.map { Float($0) })
                    if gradient != nil {
                        BatchNormKernels.affineBackward(
                            UnsafePointer<Float>(OpaquePointer(gb.baseAddress!)), xp, relu: relu?.floatMap, op,
                            rows: layout.outer, map: map, gradientFactor: gf.map { Float($0) })
                    } else {
                        BatchNormKernels.affine(xp, op, rows: layout.outer, map: map, relu: applyingReLU)
                    }
                }
            }
        }
    }
    if let gradient, let relu {
        return channelAffine(
            x, layout, shift: shift, factor: factor, offset: offset,
            gradient: Tensor.reluBackward(gradient: gradient, output: relu.output), gradientFactor: gradientFactor)
    }
    if applyingReLU {
        var y = channelAffine(x, layout, shift: shift, factor: factor, offset: offset, gradient: nil, gradientFactor: nil)
        y.apply(.relu)
        return y
    }
    return x.withUnsafeBufferPointer { xb in
        (gradient ?? x).withUnsafeBufferPointer { gb in
            s.withUnsafeBufferPointer { sp in
                f.withUnsafeBufferPointer { fp in
                    o.withUnsafeBufferPointer { op in
                        gf.withUnsafeBufferPointer { gfp in
                            Tensor<Scalar>.buildUninitialized(shape: x.shape) { out in
                                let params = (sp.baseAddress!, fp.baseAddress!, op.baseAddress!)
                                let g = gradient == nil ? nil : gb.baseAddress
                                if Scalar.self == Float.self {
                                    channelAffineKernel(
                                        UnsafePointer<Float>(OpaquePointer(xb.baseAddress!)), layout,
                                        UnsafePointer<Float>(OpaquePointer(params.0)), UnsafePointer<Float>(OpaquePointer(params.1)),
                                        UnsafePointer<Float>(OpaquePointer(params.2)),
                                        g.map { UnsafePointer<Float>(OpaquePointer($0)) },
                                        gfp.baseAddress.map { UnsafePointer<Float>(OpaquePointer($0)) },
                                        UnsafeMutablePointer<Float>(OpaquePointer(out)))
                                } else if Scalar.self == Double.self {
                                    channelAffineKernel(
                                        UnsafePointer<Double>(OpaquePointer(xb.baseAddress!)), layout,
                                        UnsafePointer<Double>(OpaquePointer(params.0)), UnsafePointer<Double>(OpaquePointer(params.1)),
                                        UnsafePointer<Double>(OpaquePointer(params.2)),
                                        g.map { UnsafePointer<Double>(OpaquePointer($0)) },
                                        gfp.baseAddress.map { UnsafePointer<Double>(OpaquePointer($0)) },
                                        UnsafeMutablePointer<Double>(OpaquePointer(out)))
                                } else {
                                    channelAffineKernel(
                                        xb.baseAddress!, layout, params.0, params.1, params.2, g, gfp.baseAddress, out)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

@inline(__always)
private func channelSumsKernel<T: BinaryFloatingPoint>(
    _ x: UnsafePointer<T>, _ l: ChannelLayout, _ shift: UnsafePointer<Double>,
    _ sum: UnsafeMutablePointer<Double>, _ sumOfSquares: UnsafeMutablePointer<Double>
) {
    let c = l.channels
    if l.inner == 1 {
        for o in 0..<l.outer {
            let row = x + o * c
            for j in 0..<c {
                let d = Double(row[j]) - shift[j]
                sum[j] += d
                sumOfSquares[j] += d * d
            }
        }
    } else {
        for o in 0..<l.outer {
            for j in 0..<c {
                let block = x + (o * c + j) * l.inner
                let s0 = shift[j]
                var s = 0.0, q = 0.0
                for i in 0..<l.inner {
                    let d = Double(block[i]) - s0
                    s += d
                    q += d * d
                }
                sum[j] += s
                sumOfSquares[j] += q
            }
        }
    }
}

@inline(__always)
private func channelGradientSumsKernel<T: BinaryFloatingPoint>(
    _ g: UnsafePointer<T>, _ x: UnsafePointer<T>, _ l: ChannelLayout, _ shift: UnsafePointer<Double>,
    _ sumG: UnsafeMutablePointer<Double>, _ sumGX: UnsafeMutablePointer<Double>
) {
    let c = l.channels
    if l.inner == 1 {
        for o in 0..<l.outer {
            let gr = g + o * c, xr = x + o * c
            for j in 0..<c {
                let gv = Double(gr[j])
                sumG[j] += gv
                sumGX[j] += gv * (Double(xr[j]) - shift[j])
            }
        }
    } else {
        for o in 0..<l.outer {
            for j in 0..<c {
                let offset = (o * c + j) * l.inner
                let gb = g + offset, xb = x + offset
                let s0 = shift[j]
                var s = 0.0, sx = 0.0
                for i in 0..<l.inner {
                    let gv = Double(gb[i])
                    s += gv
                    sx += gv * (Double(xb[i]) - s0)
                }
                sumG[j] += s
                sumGX[j] += sx
            }
        }
    }
}

@inline(__always)
private func channelAffineKernel<T: BinaryFloatingPoint>(
    _ x: UnsafePointer<T>, _ l: ChannelLayout, _ shift: UnsafePointer<T>, _ factor: UnsafePointer<T>,
    _ offset: UnsafePointer<T>, _ g: UnsafePointer<T>?, _ gFactor: UnsafePointer<T>?, _ out: UnsafeMutablePointer<T>
) {
    let c = l.channels
    if l.inner == 1 {
        if let g, let gFactor {
            for o in 0..<l.outer {
                let xr = x + o * c, gr = g + o * c, yr = out + o * c
                for j in 0..<c { yr[j] = gr[j] * gFactor[j] + ((xr[j] - shift[j]) * factor[j] + offset[j]) }
            }
        } else {
            for o in 0..<l.outer {
                let xr = x + o * c, yr = out + o * c
                for j in 0..<c { yr[j] = (xr[j] - shift[j]) * factor[j] + offset[j] }
            }
        }
    } else {
        for o in 0..<l.outer {
            for j in 0..<c {
                let base = (o * c + j) * l.inner
                let xb = x + base, yb = out + base
                let s = shift[j], f = factor[j], b = offset[j]
                if let g, let gFactor {
                    let gb = g + base, gf = gFactor[j]
                    for i in 0..<l.inner { yb[i] = gb[i] * gf + ((xb[i] - s) * f + b) }
                } else {
                    for i in 0..<l.inner { yb[i] = (xb[i] - s) * f + b }
                }
            }
        }
    }
}
