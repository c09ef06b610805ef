import CKernels
/// Adam with Keras 3's formulas and defaults (`keras.optimizers.Adam`); ``AdamW`` is the same
/// algorithm with decoupled weight decay on by default.
///
/// With learning rate `lr`, gradient `g`, step `t = iterations + 1`, slots "momentum" `m`,
/// "velocity" `v` and (with `amsgrad`) "velocity_hat" `v̂`, all zero at first:
/// ```
/// alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
/// m = m + (g - m) * (1 - beta1)
/// v = v + (g² - v) * (1 - beta2)
/// v̂ = max(v̂, v)                                    (amsgrad; then v̂ replaces v below)
/// w = w - m * alpha / (sqrt(v) + epsilon)
/// ```
/// The bias corrections are folded into `alpha`, so epsilon is added to the *uncorrected*
/// `sqrt(v)` (the paper's "epsilon hat"). PyTorch adds its eps to the corrected
/// `sqrt(v / (1 - beta2^t))` instead, so the same epsilon weighs `1 / sqrt(1 - beta2^t)` times more
/// in Keras early in training; PyTorch's default eps is also 1e-8 rather than 1e-7.
public class Adam<Scalar: TensorScalar>: Optimizer {
    let core: OptimizerCore<Scalar>
    /// The decay of the first-moment (mean) estimate.
    public let beta1: Double
    /// The decay of the second-moment (uncentered variance) estimate.
    public let beta2: Double
    /// The constant added to `sqrt(v)` in the denominator.
    public let epsilon: Double
    /// Whether the AMSGrad variant (the running maximum of `v`) is used.
    public let amsgrad: Bool

    /// The designated initializer, with the optimizer's reported name.
    init(
        name: String, learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, amsgrad: Bool,
        weightDecay: Double, clipping: GradientClipping?, schedule: (any LearningRateSchedule)?
    ) {
        precondition(beta1 >= 0 && beta1 < 1, "\(name): beta1 must be in [0, 1), got \(beta1)")
        precondition(beta2 >= 0 && beta2 < 1, "\(name): beta2 must be in [0, 1), got \(beta2)")
        precondition(epsilon >= 0, "\(name): epsilon must be non-negative, got \(epsilon)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        core = OptimizerCore(
            name: name, slotNames: amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"],
            learningRate: learningRate, schedule: schedule, clipping: clipping, weightDecay: weightDecay)
    }

    /// Keras's `Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)`,
    /// plus decoupled `weightDecay` (0 for none; see ``AdamW``), `clipping`, and an optional
    /// `schedule` that, when given, sets the learning rate at every step instead of `learningRate`.
    public convenience init(
        learningRate: Double = 0.001, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
        amsgrad: Bool = false, weightDecay: Double = 0, clipping: GradientClipping? = nil,
        schedule: (any LearningRateSchedule)? = nil
    ) {
        self.init(
            name: "Adam", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad,
            weightDecay: weightDecay, clipping: clipping, schedule: schedule)
    }

    /// The learning rate the next update uses (the schedule's value at ``iterations`` when there is
    /// a schedule). Setting it replaces any schedule with the fixed rate.
    public var learningRate: Double {
        get { core.learningRate }
        set { core.learningRate = newValue }
    }
    /// The schedule that sets the learning rate at each step, if any.
    public var schedule: (any LearningRateSchedule)? {
        get { core.schedule }
        set { core.schedule = newValue }
    }
    /// Updates applied so far.
    public var iterations: Int { core.iterations }
    /// The gradient clipping, if any.
    public var clipping: GradientClipping? { core.clipping }
    /// The decoupled weight-decay coefficient (0: none).
    public var weightDecay: Double { core.weightDecay }

    /// Creates zeroed slots for `parameters` (Keras `build`); optional, since ``update(_:)`` creates
    /// missing slots, but it lets ``loadStateTensors(_:)`` check shapes against the parameters.
    public func build(_ parameters: [(name: String, variable: Variable<Scalar>)]) {
        core.build(parameters)
    }

    /// One update of every parameter that has a gradient (see ``Optimizer/update(_:)``).
    public func update(_ parameters: [(name: String, variable: Variable<Scalar>)]) {
        // As Keras: the learning rate and the betas' powers in the variable's type, `1 - beta` in
        // double precision then cast.
        let lr = Scalar(core.learningRate)
        let t = core.iterations + 1
        let beta1Power = power(Scalar(beta1), t)
        let beta2Power = power(Scalar(beta2), t)
        let alpha = lr * (1 - beta2Power).squareRoot() / (1 - beta1Power)
        let coefficients = UpdateCoefficients(alpha, Scalar(1 - beta1), Scalar(1 - beta2), Scalar(epsilon))
        let amsgrad = amsgrad
        core.apply(parameters) { buffers in
            dispatchUpdate(
                buffers, coefficients,
                float: { adamStepFloat($0, $1, amsgrad: amsgrad) },
                double: { adamStep($0, $1, amsgrad: amsgrad) },
                generic: { adamStep($0, $1, amsgrad: amsgrad) })
        }
    }

    /// "iterations", "learning_rate" (without a schedule) and "<parameter>/<slot>" tensors.
    public func stateTensors() -> [String: Tensor<Scalar>] { core.stateTensors() }

    /// Restores ``stateTensors()``; throws ``OptimizerError`` when a name or shape does not fit.
    public func loadStateTensors(_ tensors: [String: Tensor<Scalar>]) throws { try core.loadStateTensors(tensors) }

    /// The name and hyperparameters, with Keras's keys.
    public var configuration: [String: String] {
        var c = core.commonConfiguration
        c["beta_1"] = "\(beta1)"
        c["beta_2"] = "\(beta2)"
        c["epsilon"] = "\(epsilon)"
        c["amsgrad"] = "\(amsgrad)"
        return c
    }
}

/// One Adam step on one parameter; `c` is `[alpha, 1 - beta1, 1 - beta2, epsilon]`.
private func adamStep<T: BinaryFloatingPoint>(_ b: UpdateBuffers<T>, _ c: UpdateCoefficients<T>, amsgrad: Bool) {
    let alpha = c[0], oneMinusBeta1 = c[1], oneMinusBeta2 = c[2], eps = c[3]
    let w = b.weight, g = b.gradient, n = b.count
    let m = b.slot(0), v = b.slot(1)
    if amsgrad {
        let vHat = b.slot(2)
        for i in 0..<n {
            m[i] = m[i] + (g[i] - m[i]) * oneMinusBeta1
            v[i] = v[i] + (g[i] * g[i] - v[i]) * oneMinusBeta2
            vHat[i] = Swift.max(vHat[i], v[i])
            w[i] = w[i] - (m[i] * alpha) / (vectorizableSquareRoot(vHat[i]) + eps)
        }
    } else {
        for i in 0..<n {
            m[i] = m[i] + (g[i] - m[i]) * oneMinusBeta1
            v[i] = v[i] + (g[i] * g[i] - v[i]) * oneMinusBeta2
            w[i] = w[i] - (m[i] * alpha) / (vectorizableSquareRoot(v[i]) + eps)
        }
    }
}

/// ``adamStep(_:_:amsgrad:)`` for `Float`: the C kernel (same formula and operation order),
/// split across cores.
private func adamStepFloat(_ b: UpdateBuffers<Float>, _ c: UpdateCoefficients<Float>, amsgrad: Bool) {
    let body = AdamFloatLoop(
        w: UncheckedSendable(b.weight), g: UncheckedSendable(b.gradient),
        m: UncheckedSendable(b.slot(0)), v: UncheckedSendable(b.slot(1)), vHat: UncheckedSendable(amsgrad ? b.slot(2) : nil),
        alpha: c[0], oneMinusBeta1: c[1], oneMinusBeta2: c[2], eps: c[3])
    Parallel.forEachRange(b.count, minimumPerThread: optimizerElementsPerThread, body)
}

/// ``adamStepFloat(_:_:amsgrad:)``'s loop body: the C kernel on one range of the parameters.
private struct AdamFloatLoop: ParallelLoopBody {
    let w: UncheckedSendable<UnsafeMutablePointer<Float>>
    let g: UncheckedSendable<UnsafePointer<Float>>
    let m, v: UncheckedSendable<UnsafeMutablePointer<Float>>
    let vHat: UncheckedSendable<UnsafeMutablePointer<Float>?>
    let alpha, oneMinusBeta1, oneMinusBeta2, eps: Float

    func callAsFunction(_ r: Range<Int>) {
        let i = r.lowerBound
        ck_adam_f32(w.value + i, g.value + i, m.value + i, v.value + i, vHat.value.map { $0 + i }, r.count,
                    alpha, oneMinusBeta1, oneMinusBeta2, eps)
    }
}
