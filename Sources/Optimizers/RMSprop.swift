import CKernels
/// RMSprop with Keras 3's formulas and defaults (`keras.optimizers.RMSprop`).
///
/// With learning rate `lr` and gradient `g`, slots "velocity" `v`, "momentum" `m` (when
/// `momentum > 0`) and "average_gradient" `a` (when `centered`), all zero at first:
/// ```
/// v = rho * v + (1 - rho) * g²
/// a = rho * a + (1 - rho) * g                       (centered)
/// increment = lr * g / sqrt(v - a² + epsilon)       (centered; else sqrt(v + epsilon))
/// m = momentum * m + increment;  w = w - m          (momentum > 0; else w = w - increment)
/// ```
/// Epsilon is added *inside* the square root, as in Keras and TensorFlow. PyTorch's RMSprop adds
/// it outside (`sqrt(v) + eps`), applies `lr` after the momentum buffer
/// (`b = momentum * b + g / (sqrt(v) + eps); w = w - lr * b`), and defaults to lr 0.01,
/// alpha (rho) 0.99 and eps 1e-8.
public final class RMSprop<Scalar: TensorScalar>: Optimizer {
    let core: OptimizerCore<Scalar>
    /// The discounting factor of the moving averages.
    public let rho: Double
    /// The momentum factor (0: none).
    public let momentum: Double
    /// The constant added to the mean square under the square root.
    public let epsilon: Double
    /// Whether gradients are normalized by their estimated variance rather than their mean square.
    public let centered: Bool

    /// Keras's `RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False)`,
    /// plus decoupled `weightDecay` (0 for none), `clipping`, and an optional `schedule` that, when
    /// given, sets the learning rate at every step instead of `learningRate`.
    public init(
        learningRate: Double = 0.001, rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7,
        centered: Bool = false, weightDecay: Double = 0, clipping: GradientClipping? = nil,
        schedule: (any LearningRateSchedule)? = nil
    ) {
        precondition(rho >= 0 && rho < 1, "RMSprop: rho must be in [0, 1), got \(rho)")
        precondition(momentum >= 0, "RMSprop: momentum must be non-negative, got \(momentum)")
        precondition(epsilon >= 0, "RMSprop: epsilon must be non-negative, got \(epsilon)")
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        var slots = ["velocity"]
        if momentum > 0 { slots.append("momentum") }
        if centered { slots.append("average_gradient") }
        core = OptimizerCore(
            name: "RMSprop", slotNames: slots, learningRate: learningRate, schedule: schedule,
            clipping: clipping, weightDecay: weightDecay)
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
        // Keras computes `1 - rho` in double precision and then casts it to the variable's type.
        let coefficients = UpdateCoefficients(Scalar(core.learningRate), Scalar(rho), Scalar(1 - rho), Scalar(momentum), Scalar(epsilon))
        let options = RMSpropOptions(hasMomentum: momentum > 0, centered: centered)
        core.apply(parameters) { buffers in
            dispatchUpdate(
                buffers, coefficients,
                float: { rmspropStepFloat($0, $1, options) },
                double: { rmspropStep($0, $1, options) },
                generic: { rmspropStep($0, $1, options) })
        }
    }

    /// "iterations", "learning_rate" (without a schedule) and "<parameter>/<slot>" tensors.
    public func stateTensors() -> [String: Tensor<Scalar>] { core.stateTensors() }

    /// Restores ``stateTensors()``; throws ``OptimizerError`` when a name or shape does not fit.
    public func loadStateTensors(_ tensors: [String: Tensor<Scalar>]) throws { try core.loadStateTensors(tensors) }

    /// The name and hyperparameters, with Keras's keys.
    public var configuration: [String: String] {
        var c = core.commonConfiguration
        c["rho"] = "\(rho)"
        c["momentum"] = "\(momentum)"
        c["epsilon"] = "\(epsilon)"
        c["centered"] = "\(centered)"
        return c
    }
}

/// Which RMSprop slots are present.
private struct RMSpropOptions {
    var hasMomentum: Bool
    var centered: Bool
}

/// One RMSprop step on one parameter; `c` is `[lr, rho, 1 - rho, momentum, epsilon]`.
private func rmspropStep<T: BinaryFloatingPoint>(_ b: UpdateBuffers<T>, _ c: UpdateCoefficients<T>, _ options: RMSpropOptions) {
    let lr = c[0], rho = c[1], oneMinusRho = c[2], mu = c[3], eps = c[4]
    let w = b.weight, g = b.gradient, n = b.count
    let v = b.slot(0)
    let m = options.hasMomentum ? b.slot(1) : nil
    let a = options.centered ? b.slot(options.hasMomentum ? 2 : 1) : nil
    switch (m, a) {
    case (nil, nil):
        for i in 0..<n {
            v[i] = rho * v[i] + oneMinusRho * (g[i] * g[i])
            w[i] = w[i] - (lr * g[i]) / vectorizableSquareRoot(v[i] + eps)
        }
    case (let m?, nil):
        for i in 0..<n {
            v[i] = rho * v[i] + oneMinusRho * (g[i] * g[i])
            m[i] = mu * m[i] + (lr * g[i]) / vectorizableSquareRoot(v[i] + eps)
            w[i] = w[i] - m[i]
        }
    case (nil, let a?):
        for i in 0..<n {
            v[i] = rho * v[i] + oneMinusRho * (g[i] * g[i])
            a[i] = rho * a[i] + oneMinusRho * g[i]
            w[i] = w[i] - (lr * g[i]) / vectorizableSquareRoot(v[i] - a[i] * a[i] + eps)
        }
    case (let m?, let a?):
        for i in 0..<n {
            v[i] = rho * v[i] + oneMinusRho * (g[i] * g[i])
            a[i] = rho * a[i] + oneMinusRho * g[i]
            m[i] = mu * m[i] + (lr * g[i]) / vectorizableSquareRoot(v[i] - a[i] * a[i] + eps)
            w[i] = w[i] - m[i]
        }
    }
}

/// ``rmspropStep(_:_:_:)`` for `Float`: the C kernel (same formulas and operation order), split
/// across cores.
private func rmspropStepFloat(_ b: UpdateBuffers<Float>, _ c: UpdateCoefficients<Float>, _ options: RMSpropOptions) {
    let body = RMSpropFloatLoop(
        w: UncheckedSendable(b.weight), g: UncheckedSendable(b.gradient), v: UncheckedSendable(b.slot(0)),
        m: UncheckedSendable(options.hasMomentum ? b.slot(1) : nil),
        a: UncheckedSendable(options.centered ? b.slot(options.hasMomentum ? 2 : 1) : nil),
        lr: c[0], rho: c[1], oneMinusRho: c[2], mu: c[3], eps: c[4])
    Parallel.forEachRange(b.count, minimumPerThread: optimizerElementsPerThread, body)
}

/// ``rmspropStepFloat(_:_:_:)``'s loop body: the C kernel on one range of the parameters.
private struct RMSpropFloatLoop: ParallelLoopBody {
    let w: UncheckedSendable<UnsafeMutablePointer<Float>>
    let g: UncheckedSendable<UnsafePointer<Float>>
    let v: UncheckedSendable<UnsafeMutablePointer<Float>>
    let m, a: UncheckedSendable<UnsafeMutablePointer<Float>?>
    let lr, rho, oneMinusRho, mu, eps: Float

    func callAsFunction(_ r: Range<Int>) {
        let i = r.lowerBound
        ck_rmsprop_f32(w.value + i, g.value + i, v.value + i, m.value.map { $0 + i }, a.value.map { $0 + i }, r.count,
                       lr, rho, oneMinusRho, mu, eps)
    }
}
