import DeepLearning

/// Grad-CAM (Selvaraju et al., 2017) for a binary classifier built as a ``Sequential`` model,
/// computed with the library's Autograd.
///
/// The target activations `A` (shape `[h, w, c]`) are the output of the model's last top-level
/// layer that is or contains a convolution (for `cnn`, the last `Conv2D` after its own ReLU; for
/// `vgg3`, the last `Conv2D` before its BatchNorm; for `xception-mini`, the last residual block).
/// The score `y` is the **logit** of the pneumonia class: when the model ends in a `Dense` layer with
/// a sigmoid activation, the pre-sigmoid value `x · kernel + bias` of that layer (so the gradients
/// do not vanish when the probability saturates); otherwise the model's output itself. Then
///
/// - channel weights `α_k = mean over (i, j) of ∂y / ∂A[i, j, k]`,
/// - map `L[i, j] = ReLU(Σ_k α_k A[i, j, k])`, divided by its maximum (all zeros when the maximum is 0).
public enum GradCAM {
    /// The result of one Grad-CAM pass.
    public struct Result: Sendable {
        /// The model's output for the image: the probability of the positive class.
        public var probability: Double
        /// The score whose gradients weight the channels (the logit when the model ends in a sigmoid
        /// `Dense`, else the output).
        public var score: Double
        /// The class-activation map at the resolution of the target activations, row-major,
        /// `height * width` values in [0, 1].
        public var map: [Float]
        /// The map's width (the target activations' width).
        public var width: Int
        /// The map's height.
        public var height: Int
        /// The name of the layer whose activations were used.
        public var layerName: String
    }

    /// The index in `model.layers` of the target layer: the last top-level layer that is or
    /// contains a convolution (`Conv2D`, `SeparableConv2D` or `DepthwiseConv2D`), or `nil`.
    public static func targetLayerIndex(in model: Sequential<Float>) -> Int? {
        model.layers.lastIndex { layer in
            layer.allLayers.contains { $0 is Conv2D<Float> || $0 is SeparableConv2D<Float> || $0 is DepthwiseConv2D<Float> }
        }
    }

    /// Runs `model` in inference mode on `input` (one image, `[1, height, width, channels]`) and
    /// computes the Grad-CAM map of its single output.
    ///
    /// The backward pass accumulates gradients into the `.gradient` of the weights of the layers
    /// after the target layer; they are cleared before returning. The model's weights are never
    /// changed, but two concurrent calls on the same model would race on those gradients: give each
    /// concurrent caller its own model (see ``ModelPool``).
    public static func compute(model: Sequential<Float>, input: Tensor<Float>) throws -> Result {
        try model.checkInput(input.shape)
        guard input.shape[0] == 1 else {
            throw LayerError.invalidArgument("Grad-CAM: expected one image, got a batch of shape \(input.shape)")
        }
        guard let target = targetLayerIndex(in: model) else {
            throw LayerError.invalidArgument("Grad-CAM: model '\(model.name)' has no convolution layer")
        }
        var context = ForwardContext.inference
        let layers = model.layers
        // Forward to the target activations without recording, then from a leaf that records.
        let activationsValue = withoutGradients {
            layers[...target].reduce(Variable(input)) { x, layer in layer.forward(x, context: &context) }.value
        }
        guard activationsValue.rank == 4 else {
            throw LayerError.invalidArgument("Grad-CAM: layer '\(layers[target].name)' gives \(activationsValue.shape), expected [1, h, w, c]")
        }
        let activations = Variable(activationsValue, requiresGradient: true)
        let head = Array(layers[(target + 1)...])
        var x = activations
        let score: Variable<Float>
        let probability: Double
        if let last = head.last as? Dense<Float>, last.activation == .sigmoid, let kernel = last.kernel {
            for layer in head.dropLast() { x = layer.forward(x, context: &context) }
            var logit = x.reshaped(to: [1, -1]).matmul(kernel)
            if let bias = last.bias { logit = logit + bias }
            score = logit
            // The same sigmoid as the layer's, so the probability equals the model's output.
            probability = Double(withoutGradients { logit.sigmoid() }.value.scalars[0])
        } else {
            for layer in head { x = layer.forward(x, context: &context) }
            score = x
            probability = Double(x.value.scalars.first ?? .nan)
        }
        guard score.value.count == 1 else {
            throw LayerError.invalidArgument("Grad-CAM: the model gives \(score.shape) outputs; expected one score")
        }
        score.backward()
        defer {
            for layer in head {
                for sublayer in layer.allLayers { for weight in sublayer.weights { weight.variable.zeroGradient() } }
            }
        }

        let (h, w, c) = (activationsValue.shape[1], activationsValue.shape[2], activationsValue.shape[3])
        let a = activationsValue.scalars
        let g = activations.gradient?.scalars ?? [Float](repeating: 0, count: a.count)
        var alpha = [Float](repeating: 0, count: c)
        for p in 0..<(h * w) { for k in 0..<c { alpha[k] += g[p * c + k] } }
        for k in 0..<c { alpha[k] /= Float(h * w) }
        var map = [Float](repeating: 0, count: h * w)
        for p in 0..<(h * w) {
            var sum: Float = 0
            for k in 0..<c { sum += alpha[k] * a[p * c + k] }
            map[p] = max(sum, 0)
        }
        let peak = map.max() ?? 0
        if peak > 0, peak.isFinite { map = map.map { $0 / peak } } else { map = [Float](repeating: 0, count: h * w) }
        return Result(probability: probability, score: Double(score.value.scalars[0]), map: map, width: w, height: h,
                      layerName: layers[target].name)
    }
}
