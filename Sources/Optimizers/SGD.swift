/// Stochastic gradient descent with optional momentum and Nesterov momentum, with Keras 3's
/// formulas and defaults (`keras.optimizers.SGD`).
///
/// With learning rate `lr`, gradient `g` and velocity `v` (slot "momentum", zero at first):
/// - `momentum == 0`: `w = w - g * lr`;
/// - otherwise `v = v * momentum - g * lr`, then `w = w + v`, or with Nesterov
///   `w = w + (v * momentum - g * lr)`.
///
/// PyTorch's SGD differs: its buffer is `b = momentum * b + g` (starting at `g`) and
/// `w = w - lr * b`, its default rate is 1e-3, and its `weight_decay` is an L2 term added to the
/// gradient; here (as in Keras) weight decay is decoupled, `w = w - w * weightDecay * lr`, applied
/// before the step.
public final class SGD<Scalar: TensorScalar>: Optimizer {
    let core: OptimizerCore<Scalar>
    /// The momentum factor in `[0, 1]` (0: plain gradient descent).
    public let momentum: Double
    /// Whether the step uses Nesterov momentum.
    public let nesterov: Bool

    /// Keras's `SGD(learning_rate=0.01, momentum=0.0, nesterov=False)`, plus decoupled `weightDecay`
    /// (Keras `weight_decay`; 0 for none), `clipping`, and an optional `schedule` that, when given,
    /// sets the learning rate at every step instead of `learningRate`.
    public init(
        learningRate: Double = 0.01, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0,
        clipping: GradientClipping? = nil, schedule: (any LearningRateSchedule)? = nil
    ) {
        precondition(momentum >= 0 && momentum <= 1, "SGD: momentum must be in [0, 1], got \(momentum)")
        self.momentum = momentum
        self.nesterov = nesterov
        core = OptimizerCore(
            name: "SGD", slotNames: momentum != 0 ? ["momentum"] : [], learningRate: learningRate,
            schedule: schedule, clipping: clipping, weightDecay: weightDecay)
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
        let lr = Scalar(core.learningRate)
        let mu = Scalar(momentum)
        let hasMomentum = momentum != 0, nesterov = nesterov
        core.apply(parameters) { buffers in
            dispatchUpdate(
                buffers, UpdateCoefficients(lr, mu),
                float: { sgdStep($0, lr: $1[0], momentum: $1[1], hasMomentum: hasMomentum, nesterov: nesterov) },
                double: { sgdStep($0, lr: $1[0], momentum: $1[1], hasMomentum: hasMomentum, nesterov: nesterov) },
                generic: { sgdStep($0, lr: $1[0], momentum: $1[1], hasMomentum: hasMomentum, nesterov: nesterov) })
        }
    }

    /// "iterations", "learning_rate" (without a schedule) and "<parameter>/<slot>" tensors.
    public func stateTensors() -> [String: Tensor<Scalar>] { core.stateTensors() }

    /// Restores ``stateTensors()``; throws ``OptimizerError`` when a name or shape does not fit.
    public func loadStateTensors(_ tensors: [String: Tensor<Scalar>]) throws { try core.loadStateTensors(tensors) }

    /// The name and hyperparameters, with Keras's keys.
    public var configuration: [String: String] {
        var c = core.commonConfiguration
        c["momentum"] = "\(momentum)"
        c["nesterov"] = "\(nesterov)"
        return c
    }
}

/// One SGD step on one parameter, elementwise in Keras's operation order.
private func sgdStep<T: BinaryFloatingPoint>(_ b: UpdateBuffers<T>, lr: T, momentum: T, hasMomentum: Bool, nesterov: Bool) {
    let w = b.weight, g = b.gradient, n = b.count
    guard hasMomentum else {
        for i in 0..<n { w[i] = w[i] - g[i] * lr }
        return
    }
    let v = b.slot(0)
    if nesterov {
        for i in 0..<n {
            v[i] = v[i] * momentum - g[i] * lr
            w[i] = w[i] + (v[i] * momentum - g[i] * lr)
        }
    } else {
        for i in 0..<n {
            v[i] = v[i] * momentum - g[i] * lr
            w[i] = w[i] + v[i]
        }
    }
}
