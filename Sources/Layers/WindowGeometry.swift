// Shape rules shared by the sliding-window layers (convolutions and pooling).

/// The output height and width of a window (kernel or pool) sliding over an `[H, W, C]` input
/// (batch excluded), with Keras's padding rules, or a thrown ``LayerError`` naming the layer and
/// the shape when the input is not rank 3 or no window fits (Keras's "negative output size").
func windowedOutputSize(
    layer: String, inputShape: [Int], window: (Int, Int), strides: (Int, Int), padding: Padding,
    dilation: (Int, Int) = (1, 1)
) throws -> (height: Int, width: Int) {
    let effective = ((window.0 - 1) * dilation.0 + 1, (window.1 - 1) * dilation.1 + 1)
    let requirement = padding == .valid
        ? "[height, width, channels] with height >= \(effective.0), width >= \(effective.1) and channels >= 1"
        : "[height, width, channels] with every dimension >= 1"
    guard inputShape.count == 3, inputShape.allSatisfy({ $0 > 0 }) else {
        throw LayerError.incompatibleShape(layer: layer, expected: requirement, got: inputShape)
    }
    let height = padding.outputSize(input: inputShape[0], window: window.0, stride: strides.0, dilation: dilation.0).output
    let width = padding.outputSize(input: inputShape[1], window: window.1, stride: strides.1, dilation: dilation.1).output
    guard height > 0, width > 0 else {
        throw LayerError.incompatibleShape(layer: layer, expected: requirement, got: inputShape)
    }
    return (height, width)
}

/// Stops with a message naming the layer unless every window argument is positive and, as Keras
/// requires for its convolutions, strides and dilation are not both larger than 1.
func checkConvolutionArguments(
    _ layer: String, kernelSize: (Int, Int), strides: (Int, Int), dilationRate: (Int, Int)
) {
    precondition(kernelSize.0 > 0 && kernelSize.1 > 0, "\(layer): kernel size must be positive, got \(kernelSize)")
    precondition(strides.0 > 0 && strides.1 > 0, "\(layer): strides must be positive, got \(strides)")
    precondition(
        dilationRate.0 > 0 && dilationRate.1 > 0, "\(layer): dilation rate must be positive, got \(dilationRate)")
    precondition(
        max(strides.0, strides.1) == 1 || max(dilationRate.0, dilationRate.1) == 1,
        "\(layer): strides > 1 together with dilation rate > 1 is not supported (as in Keras), got strides \(strides) and dilation rate \(dilationRate)")
}
