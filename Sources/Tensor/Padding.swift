/// How a sliding window (convolution or pooling) treats the borders, as in Keras.
public enum Padding: String, Sendable, Codable, CaseIterable {
    /// No padding: only windows that fit entirely inside the input.
    case valid
    /// Zero padding so that the output size is `ceil(input / stride)`; when the total padding is
    /// odd, the extra row or column goes at the end (bottom/right), as in TensorFlow and Keras.
    case same

    /// The output length and the padding before the first element along one spatial axis.
    ///
    /// - Parameters:
    ///   - input: the input length.
    ///   - window: the window (kernel or pool) length.
    ///   - stride: the step between windows.
    ///   - dilation: the spacing between window taps (1 for none).
    /// - Returns: `output` (0 when no window fits) and `before`, the zero padding at the start;
    ///   the padding at the end is whatever makes the last window fit.
    public func outputSize(input: Int, window: Int, stride: Int, dilation: Int = 1) -> (output: Int, before: Int) {
        precondition(window >= 1 && stride >= 1 && dilation >= 1,
                     "Padding: window \(window), stride \(stride) and dilation \(dilation) must be positive")
        let effective = (window - 1) * dilation + 1
        switch self {
        case .valid:
            return (input >= effective ? (input - effective) / stride + 1 : 0, 0)
        case .same:
            let output = (input + stride - 1) / stride
            let total = Swift.max((output - 1) * stride + effective - input, 0)
            return (output, total / 2)
        }
    }
}
