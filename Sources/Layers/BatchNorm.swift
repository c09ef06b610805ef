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
        var beta = [Double](repeating: 0, count: channels), invStd = beta, factor = beta
        variance.withUnsafeBufferPointer { v in
            beta.withUnsafeMutableBufferPointer { b in
                invStd.withUnsafeMutableBufferPointer { i in
                    factor.withUnsafeMutableBufferPointer { f in
                        fillNormalization(
                            variance: v.baseAddress!, channels: channels, beta: b.baseAddress!, invStd: i.baseAddress!,
                            factor: f.baseAddress!)
                    }
                }
            }
        }
        return (beta, invStd, factor)
    }

    /// ``normalization(variance:)`` into caller-owned per-channel storage (`channels` each), without allocating.
    func fillNormalization(
        variance: UnsafePointer<Double>, channels: Int, beta: UnsafeMutablePointer<Double>,
        invStd: UnsafeMutablePointer<Double>, factor: UnsafeMutablePointer<Double>
    ) {
        for c in 0..<channels {
            invStd[c] = 1 / (variance[c] + epsilon).squareRoot()
        }
        if let gamma {
            gamma.value.withUnsafeBufferPointer { g in
                for c in 0..<channels { factor[c] = Double(g[c]) * invStd[c] }
            }
        } else {
            for c in 0..<channels { factor[c] = 1 * invStd[c] }
        }
        if let betaVariable = self.beta {
            betaVariable.value.withUnsafeBufferPointer { b in
                for c in 0..<channels { beta[c] = Double(b[c]) }
            }
        } else {
            beta.update(repeating: 0, count: channels)
        }
    }

    /// The layer's forward pass, followed by `max(_, 0)` in the same pass when `applyingReLU`
    /// (what a ``Sequential`` runs for a batch normalization directly followed by a plain ReLU):
    /// the same values and gradients as the two layers one after the other (a NaN becomes 0, as in
    /// the ``ReLU`` layer), without the intermediate tensor.
    func forward(_ input: Variable<Scalar>, context: inout ForwardContext, applyingReLU: Bool) -> Variable<Scalar> {
        let layout = checkedLayout(input.shape)
        let x = input.value
        let channels = layout.channels
        var workspace = BatchNormWorkspace<Scalar>(channels: channels)
        // Every element is written by the forward pass.
        var y = Tensor<Scalar>.uninitialized(x.shape)
        let training = context.isTraining
        if training {
            trainingForward(x, applyingReLU: applyingReLU, workspace: &workspace, into: &y)
        } else {
            guard let movingMean, let movingVariance else { preconditionFailure("BatchNormalization '\(name)': no moving statistics") }
            workspace.withPointers { p in
                movingMean.value.withUnsafeBufferPointer { m in
                    movingVariance.value.withUnsafeBufferPointer { v in
                        for c in 0..<channels {
                            p.mean[c] = Double(m[c])
                            p.variance[c] = Double(v[c])
                        }
                    }
                }
            }
            normalize(x, layout, applyingReLU: applyingReLU, workspace: &workspace, into: &y)
        }

        let inputs = [input] + (gamma.map { [$0] } ?? []) + (beta.map { [$0] } ?? [])
        let hasGamma = gamma != nil, hasBeta = beta != nil
        let operation = (training ? "batchNormTraining" : "batchNormInference") + (applyingReLU ? "+relu" : "")
        return Variable.record(operation, value: y, inputs: inputs) { g in
            var workspace = workspace
            var dx = Tensor<Scalar>.uninitialized(x.shape)
            var dGamma = hasGamma ? Tensor<Scalar>.uninitialized([channels]) : nil
            var dBeta = hasBeta ? Tensor<Scalar>.uninitialized([channels]) : nil
            self.backward(
                g, input: x, output: y, layout, training: training, applyingReLU: applyingReLU, workspace: &workspace,
                inputGradient: &dx, gammaGradient: &dGamma, betaGradient: &dBeta)
            var result: [Tensor<Scalar>?] = [dx]
            if let dGamma { result.append(dGamma) }
            if let dBeta { result.append(dBeta) }
            return result
        }
    }

    /// The `[outer, channels, inner]` layout of an input of `shape` (with the batch axis), checked
    /// against the built shape without allocating.
    private func checkedLayout(_ shape: [Int]) -> ChannelLayout {
        let built = requireBuilt()
        let a = channelAxis(rank: built.count + 1)!
        precondition(
            shape.count == built.count + 1 && shape[a] == built[a - 1],
            "BatchNormalization '\(name)': input shape \(shape) does not match the built shape \(built) "
                + "(channels \(built[a - 1]) at axis \(a))")
        return ChannelLayout(shape: shape, axis: a)
    }

    /// The training-mode forward pass (``forward(_:context:)`` in training, followed by
    /// `max(_, 0)` when `applyingReLU`) into caller-owned storage, without allocating: computes the
    /// batch mean and biased variance into `workspace` (made for this layer's channel count),
    /// updates the moving statistics in place exactly as ``forward(_:context:)`` does, and
    /// overwrites every element of `output` (the shape of `x`). The values are bitwise those of
    /// the recorded forward pass. Keep `workspace` for ``trainingBackward(_:input:output:applyingReLU:workspace:inputGradient:gammaGradient:betaGradient:)``.
    package func trainingForward(
        _ x: Tensor<Scalar>, applyingReLU: Bool = false, workspace: inout BatchNormWorkspace<Scalar>,
        into output: inout Tensor<Scalar>
    ) {
        guard let movingMean, let movingVariance else { preconditionFailure("BatchNormalization '\(name)': no moving statistics") }
        let layout = checkedLayout(x.shape)
        let channels = layout.channels
        precondition(
            workspace.channels == channels,
            "BatchNormalization '\(name)': workspace for \(workspace.channels) channels, the input has \(channels)")
        channelMoments(x, layout, workspace: &workspace)
        let m = Scalar(momentum), oneMinus = Scalar(1 - momentum)
        workspace.withPointers { p in
            // moving * momentum + batch * (1 - momentum), rounded as the tensor operations round
            // it (each product gets `+ 0`: the `affine` map of `Tensor * Scalar`).
            movingMean.value.withUnsafeMutableBufferPointer { mm in
                for c in 0..<channels { mm[c] = (mm[c] * m + 0) + (Scalar(p.mean[c]) * oneMinus + 0) }
            }
            movingVariance.value.withUnsafeMutableBufferPointer { mv in
                for c in 0..<channels { mv[c] = (mv[c] * m + 0) + (Scalar(p.variance[c]) * oneMinus + 0) }
            }
        }
        normalize(x, layout, applyingReLU: applyingReLU, workspace: &workspace, into: &output)
    }

    /// The backward pass of ``trainingForward(_:applyingReLU:workspace:into:)`` for the output
    /// gradient `gradient`, with the `workspace` that call filled and its `input` and `output`,
    /// without allocating: overwrites `inputGradient` (the input's shape) and, per channel,
    /// `gammaGradient` and `betaGradient` (`[channels]`; given exactly when the layer has `gamma`,
    /// respectively `beta`). Gradients are overwritten, not accumulated.
    package func trainingBackward(
        _ gradient: Tensor<Scalar>, input: Tensor<Scalar>, output: Tensor<Scalar>, applyingReLU: Bool = false,
        workspace: inout BatchNormWorkspace<Scalar>, inputGradient: inout Tensor<Scalar>,
        gammaGradient: inout Tensor<Scalar>?, betaGradient: inout Tensor<Scalar>?
    ) {
        let layout = checkedLayout(input.shape)
        backward(
            gradient, input: input, output: output, layout, training: true, applyingReLU: applyingReLU,
            workspace: &workspace, inputGradient: &inputGradient, gammaGradient: &gammaGradient, betaGradient: &betaGradient)
    }

    /// `output = (x - mean) * factor + beta` per channel (then `max(_, 0)` when `applyingReLU`),
    /// with `workspace`'s mean and variance; fills its `invStd`, `factor` and `offset` (beta).
    private func normalize(
        _ x: Tensor<Scalar>, _ layout: ChannelLayout, applyingReLU: Bool, workspace: inout BatchNormWorkspace<Scalar>,
        into output: inout Tensor<Scalar>
    ) {
        precondition(
            output.shape == x.shape, "BatchNormalization '\(name)': output shape \(output.shape) differs from input shape \(x.shape)")
        workspace.withPointers { p in
            fillNormalization(variance: p.variance, channels: layout.channels, beta: p.offset, invStd: p.invStd, factor: p.factor)
            x.withUnsafeBufferPointer { xb in
                output.withUnsafeMutableBufferPointer { ob in
                    guard let xp = xb.baseAddress, let op = ob.baseAddress else { return }
                    channelAffine(
                        xp, layout, shift: p.mean, factor: p.factor, offset: p.offset, gradient: nil, gradientFactor: nil,
                        applyingReLU: applyingReLU, relu: nil, out: op, parameters: p)
                }
            }
        }
    }

    /// The backward pass in training (through the batch statistics) or inference, into
    /// caller-owned storage (see ``trainingBackward(_:input:output:applyingReLU:workspace:inputGradient:gammaGradient:betaGradient:)``).
    private func backward(
        _ g: Tensor<Scalar>, input x: Tensor<Scalar>, output y: Tensor<Scalar>, _ layout: ChannelLayout, training: Bool,
        applyingReLU: Bool, workspace: inout BatchNormWorkspace<Scalar>, inputGradient: inout Tensor<Scalar>,
        gammaGradient: inout Tensor<Scalar>?, betaGradient: inout Tensor<Scalar>?
    ) {
        let channels = layout.channels
        precondition(
            g.shape == x.shape && y.shape == x.shape && inputGradient.shape == x.shape,
            "batchNorm backward: gradient shape \(g.shape), output shape \(y.shape) and input gradient shape \(inputGradient.shape) differ from input shape \(x.shape)")
        precondition(
            workspace.channels == channels && (gammaGradient != nil) == (gamma != nil) && (betaGradient != nil) == (beta != nil)
                && (gammaGradient?.count ?? channels) == channels && (betaGradient?.count ?? channels) == channels,
            "BatchNormalization '\(name)': workspace or gamma / beta gradients do not match \(channels) channels")
        let fast = Scalar.self == Float.self && layout.inner == 1 && layout.perChannel > 0
        // The Swift loops take the gradient through the ReLU first (into `inputGradient`, then
        // read from there): the gradient where the output is positive, else 0. The Float kernels
        // recompute the mask from `x` with the forward map.
        let maskedInPlace = applyingReLU && !fast
        if maskedInPlace { Tensor.reluBackward(gradient: g, output: y, into: &inputGradient) }
        workspace.withPointers { p in
            let relu = applyingReLU && fast ? BatchNormKernels.AffineMap(shift: p.mean, factor: p.factor, offset: p.offset) : nil
            x.withUnsafeBufferPointer { xb in
                g.withUnsafeBufferPointer { gb in
                    inputGradient.withUnsafeMutableBufferPointer { db in
                        // dbeta = sum g, dgamma = sum g * xhat with xhat = (x - mean) * invStd.
                        p.sumG.update(repeating: 0, count: channels)
                        p.sumGX.update(repeating: 0, count: channels)
                        guard let xp = xb.baseAddress, let dx = db.baseAddress else {
                            computeGammaGradient(p, channels)
                            return
                        }
                        let gp = maskedInPlace ? UnsafePointer(dx) : gb.baseAddress!
                        channelGradientSums(gp, xp, layout, shift: p.mean, relu: relu, sumG: p.sumG, sumGX: p.sumGX)
                        computeGammaGradient(p, channels)
                        // Inference: dx = factor * g. Training (the batch statistics depend on x):
                        // dx = factor * (g - dbeta / m - xhat * dgamma / m)
                        //    = factor * g - (x - mean) * (factor * invStd * dgamma / m) - factor * dbeta / m.
                        p.slope.update(repeating: 0, count: channels)
                        p.shiftTerm.update(repeating: 0, count: channels)
                        if training {
                            let m = Double(layout.perChannel)
                            for c in 0..<channels {
                                p.slope[c] = -p.factor[c] * p.invStd[c] * p.dGamma[c] / m
                                p.shiftTerm[c] = -p.factor[c] * p.sumG[c] / m
                            }
                        }
                        channelAffine(
                            xp, layout, shift: p.mean, factor: p.slope, offset: p.shiftTerm, gradient: gp,
                            gradientFactor: p.factor, applyingReLU: false, relu: relu, out: dx, parameters: p)
                    }
                }
            }
            gammaGradient?.withUnsafeMutableBufferPointer { d in
                for c in 0..<channels { d[c] = Scalar(p.dGamma[c]) }
            }
            betaGradient?.withUnsafeMutableBufferPointer { d in
                for c in 0..<channels { d[c] = Scalar(p.sumG[c]) }
            }
        }
    }

    /// `dGamma = sumGX * invStd` per channel.
    private func computeGammaGradient(_ p: BatchNormWorkspace<Scalar>.Pointers, _ channels: Int) {
        for c in 0..<channels { p.dGamma[c] = p.sumGX[c] * p.invStd[c] }
    }
}

/// Per-channel storage of ``BatchNorm``'s allocation-free passes
/// (``BatchNorm/trainingForward(_:applyingReLU:workspace:into:)`` and its backward), allocated
/// once for a channel count and reused from step to step: the batch statistics and the
/// normalization's parameters the forward pass computes (which the backward pass reads) and the
/// backward pass's per-channel sums.
package struct BatchNormWorkspace<Scalar: TensorScalar>: Sendable {
    /// The channel count it is sized for.
    package let channels: Int
    /// The Double buffers, `doubleBuffers` blocks of `channels` (see ``Pointers``).
    private var doubles: [Double]
    /// The per-channel parameters of the Swift loops in `Scalar`, 4 blocks of `channels`.
    private var scalars: [Scalar]
    private static var doubleBuffers: Int { 10 }

    /// Storage for `channels` channels (its only allocation).
    package init(channels: Int) {
        precondition(channels >= 0, "BatchNormWorkspace: negative channel count \(channels)")
        self.channels = channels
        doubles = [Double](repeating: 0, count: Self.doubleBuffers * channels)
        scalars = [Scalar](repeating: 0, count: 4 * channels)
    }

    /// The batch mean of the last training forward pass (a copy, for inspection).
    package var mean: [Double] { Array(doubles[0..<channels]) }
    /// The batch biased variance of the last training forward pass (a copy, for inspection).
    package var variance: [Double] { Array(doubles[channels..<(2 * channels)]) }

    /// The buffers, `channels` elements each.
    struct Pointers {
        /// The mean the output is normalized with.
        let mean: UnsafeMutablePointer<Double>
        /// The variance it is normalized with.
        let variance: UnsafeMutablePointer<Double>
        /// `1 / sqrt(variance + epsilon)`.
        let invStd: UnsafeMutablePointer<Double>
        /// `gamma * invStd`.
        let factor: UnsafeMutablePointer<Double>
        /// `beta` (0 without one).
        let offset: UnsafeMutablePointer<Double>
        /// Backward: the sums of the gradient (also scratch of the Swift moments).
        let sumG: UnsafeMutablePointer<Double>
        /// Backward: the sums of gradient times `x - mean` (also scratch of the Swift moments).
        let sumGX: UnsafeMutablePointer<Double>
        /// Backward: the input gradient's slope in `x - mean` (also scratch of the Swift moments).
        let slope: UnsafeMutablePointer<Double>
        /// Backward: the input gradient's constant term (also scratch of the Swift moments).
        let shiftTerm: UnsafeMutablePointer<Double>
        /// Backward: the gamma gradient.
        let dGamma: UnsafeMutablePointer<Double>
        /// The shift, factor, offset and gradient factor of the Swift affine loop, in `Scalar`.
        let scalarParameters: UnsafeMutablePointer<Scalar>
    }

    /// Calls `body` with the buffers.
    mutating func withPointers<R>(_ body: (Pointers) -> R) -> R {
        let c = channels
        return doubles.withUnsafeMutableBufferPointer { d in
            scalars.withUnsafeMutableBufferPointer { s in
                // A 0-channel workspace has no storage: any non-nil pointer (never dereferenced).
                let dp = d.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Double>.alignment)!
                let sp = s.baseAddress ?? UnsafeMutablePointer(bitPattern: MemoryLayout<Scalar>.alignment)!
                return body(Pointers(
                    mean: dp, variance: dp + c, invStd: dp + 2 * c, factor: dp + 3 * c, offset: dp + 4 * c,
                    sumG: dp + 5 * c, sumGX: dp + 6 * c, slope: dp + 7 * c, shiftTerm: dp + 8 * c, dGamma: dp + 9 * c,
                    scalarParameters: sp))
            }
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
        // Index loops: slice reductions allocate in unoptimized builds.
        var outer = 1, inner = 1
        for i in 0..<axis { outer *= shape[i] }
        for i in (axis + 1)..<shape.count { inner *= shape[i] }
        self.outer = outer
        channels = shape[axis]
        self.inner = inner
    }

    /// The number of elements per channel.
    var perChannel: Int { outer * inner }
}

/// The per-channel mean and biased variance into `workspace` (two passes: the mean, then the
/// centered sums of squares with the rounding correction of the corrected two-pass algorithm;
/// one pass on the Float channels-last kernels).
func channelMoments<Scalar: TensorScalar>(
    _ x: Tensor<Scalar>, _ layout: ChannelLayout, workspace: inout BatchNormWorkspace<Scalar>
) {
    let channels = layout.channels
    workspace.withPointers { p in
        x.withUnsafeBufferPointer { xb in
            if Scalar.self == Float.self, layout.inner == 1, layout.perChannel > 0 {
                BatchNormKernels.moments(
                    UnsafePointer<Float>(OpaquePointer(xb.baseAddress!)), rows: layout.outer, channels: channels,
                    mean: p.mean, variance: p.variance)
                return
            }
            let m = Double(layout.perChannel)
            // Scratch: the zero shift, the first pass's sums of squares, the centered sums and squares.
            let (zero, scratch, centered, squares) = (p.slope, p.shiftTerm, p.sumG, p.sumGX)
            p.mean.update(repeating: 0, count: channels)
            zero.update(repeating: 0, count: channels)
            scratch.update(repeating: 0, count: channels)
            centered.update(repeating: 0, count: channels)
            squares.update(repeating: 0, count: channels)
            if let xp = xb.baseAddress {
                dispatchSums(xp, layout, shift: zero, sum: p.mean, sumOfSquares: scratch)
                for c in 0..<channels { p.mean[c] /= m }
                dispatchSums(xp, layout, shift: p.mean, sum: centered, sumOfSquares: squares)
            }
            for c in 0..<channels {
                p.variance[c] = Swift.max(0, (squares[c] - centered[c] * centered[c] / m) / m)
            }
        }
    }
}

private func dispatchSums<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, _ layout: ChannelLayout, shift: UnsafePointer<Double>,
    sum: UnsafeMutablePointer<Double>, sumOfSquares: UnsafeMutablePointer<Double>
) {
    if Scalar.self == Float.self {
        channelSumsKernel(UnsafePointer<Float>(OpaquePointer(x)), layout, shift, sum, sumOfSquares)
    } else if Scalar.self == Double.self {
        channelSumsKernel(UnsafePointer<Double>(OpaquePointer(x)), layout, shift, sum, sumOfSquares)
    } else {
        channelSumsKernel(x, layout, shift, sum, sumOfSquares)
    }
}

/// Per channel: adds the sums of `g` and of `g * (x - shift)` to `sumG` and `sumGX` (zero on
/// entry), with `g` taken as 0 where the affine map `relu` of `x` is not `> 0` when that is given
/// (Float channels-last only: the Swift loops take an already masked `g`).
func channelGradientSums<Scalar: TensorScalar>(
    _ g: UnsafePointer<Scalar>, _ x: UnsafePointer<Scalar>, _ layout: ChannelLayout, shift: UnsafePointer<Double>,
    relu: BatchNormKernels.AffineMap?, sumG: UnsafeMutablePointer<Double>, sumGX: UnsafeMutablePointer<Double>
) {
    if Scalar.self == Float.self, layout.inner == 1, layout.perChannel > 0 {
        BatchNormKernels.gradientSums(
            UnsafePointer<Float>(OpaquePointer(g)), UnsafePointer<Float>(OpaquePointer(x)), relu: relu, rows: layout.outer,
            channels: layout.channels, shift: shift, sumG: sumG, sumGX: sumGX)
        return
    }
    precondition(relu == nil, "channelGradientSums: the Swift loops take a masked gradient")
    if Scalar.self == Float.self {
        channelGradientSumsKernel(
            UnsafePointer<Float>(OpaquePointer(g)), UnsafePointer<Float>(OpaquePointer(x)), layout, shift, sumG, sumGX)
    } else if Scalar.self == Double.self {
        channelGradientSumsKernel(
            UnsafePointer<Double>(OpaquePointer(g)), UnsafePointer<Double>(OpaquePointer(x)), layout, shift, sumG, sumGX)
    } else {
        channelGradientSumsKernel(g, x, layout, shift, sumG, sumGX)
    }
}

/// `out = (x - shift[c]) * factor[c] + offset[c]`, plus `g * gradientFactor[c]` when `gradient` is
/// given (with `g` first taken through `relu` when that is given too: Float channels-last only);
/// then, when `applyingReLU` (a forward pass, no gradient), `out` replaced by `out > 0 ? out : 0`.
/// The Swift loops convert the parameters to `Scalar` in `parameters.scalarParameters`.
/// `gradient` may be `out` (each element is read before it is written).
func channelAffine<Scalar: TensorScalar>(
    _ x: UnsafePointer<Scalar>, _ layout: ChannelLayout, shift: UnsafePointer<Double>, factor: UnsafePointer<Double>,
    offset: UnsafePointer<Double>, gradient: UnsafePointer<Scalar>?, gradientFactor: UnsafePointer<Double>?,
    applyingReLU: Bool, relu: BatchNormKernels.AffineMap?, out: UnsafeMutablePointer<Scalar>,
    parameters: BatchNormWorkspace<Scalar>.Pointers
) {
    let channels = layout.channels
    if Scalar.self == Float.self, layout.inner == 1, layout.perChannel > 0 {
        let xp = UnsafePointer<Float>(OpaquePointer(x))
        let op = UnsafeMutablePointer<Float>(OpaquePointer(out))
        let map = BatchNormKernels.AffineMap(shift: shift, factor: factor, offset: offset)
        if let gradient, let gradientFactor {
            BatchNormKernels.affineBackward(
                UnsafePointer<Float>(OpaquePointer(gradient)), xp, relu: relu, op, rows: layout.outer, channels: channels,
                map: map, gradientFactor: gradientFactor)
        } else {
            BatchNormKernels.affine(xp, op, rows: layout.outer, channels: channels, map: map, relu: applyingReLU)
        }
        return
    }
    precondition(relu == nil, "channelAffine: the Swift loops take a masked gradient")
    let s = parameters.scalarParameters, f = s + channels, o = s + 2 * channels
    let gf: UnsafeMutablePointer<Scalar>? = gradientFactor == nil ? nil : s + 3 * channels
    for c in 0..<channels {
        s[c] = Scalar(shift[c])
        f[c] = Scalar(factor[c])
        o[c] = Scalar(offset[c])
        if let gf, let gradientFactor { gf[c] = Scalar(gradientFactor[c]) }
    }
    let g = gradient
    if Scalar.self == Float.self {
        channelAffineKernel(
            UnsafePointer<Float>(OpaquePointer(x)), layout, UnsafePointer<Float>(OpaquePointer(s)),
            UnsafePointer<Float>(OpaquePointer(f)), UnsafePointer<Float>(OpaquePointer(o)),
            g.map { UnsafePointer<Float>(OpaquePointer($0)) }, gf.map { UnsafePointer<Float>(OpaquePointer($0)) },
            UnsafeMutablePointer<Float>(OpaquePointer(out)))
    } else if Scalar.self == Double.self {
        channelAffineKernel(
            UnsafePointer<Double>(OpaquePointer(x)), layout, UnsafePointer<Double>(OpaquePointer(s)),
            UnsafePointer<Double>(OpaquePointer(f)), UnsafePointer<Double>(OpaquePointer(o)),
            g.map { UnsafePointer<Double>(OpaquePointer($0)) }, gf.map { UnsafePointer<Double>(OpaquePointer($0)) },
            UnsafeMutablePointer<Double>(OpaquePointer(out)))
    } else {
        channelAffineKernel(x, layout, s, f, o, g, gf.map { UnsafePointer($0) }, out)
    }
    if applyingReLU {
        Scalar.applyUnary(.relu, UnsafePointer(out), out, layout.outer * channels * layout.inner)
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
