/// Adam with decoupled weight decay (`keras.optimizers.AdamW`, Loshchilov and Hutter): before each
/// Adam step every updated weight shrinks by `w = w - w * weightDecay * lr`.
///
/// The decay is not part of the gradient, so it does not pass through Adam's moment estimates.
/// Keras's default `weight_decay` is 0.004; PyTorch's `AdamW` uses the same decoupled form
/// (`w = w - lr * weight_decay * w`, applied before the step) with default 0.01 (and eps 1e-8).
public final class AdamW<Scalar: TensorScalar>: Adam<Scalar> {
    /// Keras's `AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
    /// epsilon=1e-7, amsgrad=False)`, plus `clipping` and an optional `schedule` that, when given,
    /// sets the learning rate at every step instead of `learningRate` (the decay uses the same rate).
    public init(
        learningRate: Double = 0.001, weightDecay: Double = 0.004, beta1: Double = 0.9, beta2: Double = 0.999,
        epsilon: Double = 1e-7, amsgrad: Bool = false, clipping: GradientClipping? = nil,
        schedule: (any LearningRateSchedule)? = nil
    ) {
        super.init(
            name: "AdamW", learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad,
            weightDecay: weightDecay, clipping: clipping, schedule: schedule)
    }
}
