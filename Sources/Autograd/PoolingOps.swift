// Differentiable 2-D pooling over NHWC variables.

extension Variable {
    /// Max pooling over an NHWC variable `[N, H, W, C]` (Keras `MaxPooling2D`); the gradient goes
    /// to the input element that won each window (the first maximum on ties).
    ///
    /// - Parameters:
    ///   - poolSize: window `(height, width)`.
    ///   - strides: step `(vertical, horizontal)`; the pool size when `nil`.
    ///   - padding: `.valid` or `.same`; padded positions never win.
    public func maxPool2D(poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Variable {
        // Without a gradient to record (inference), the forward pass skips the winner indices.
        guard GradientRecording.isEnabled, requiresGradient else {
            return Variable(value.maxPool2D(poolSize: poolSize, strides: strides, padding: padding))
        }
        let (output, indices) = value.maxPool2DWithIndices(poolSize: poolSize, strides: strides, padding: padding)
        let inputShape = shape
        return Variable.record("maxPool2D", value: output, inputs: [self]) { g in
            [Tensor.maxPool2DBackward(
                gradient: g, indices: indices, inputShape: inputShape, poolSize: poolSize, strides: strides,
                padding: padding)]
        }
    }

    /// Average pooling over an NHWC variable `[N, H, W, C]` (Keras `AveragePooling2D`); with
    /// `.same` padding each window averages only its real elements.
    public func avgPool2D(poolSize: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Variable {
        let output = value.avgPool2D(poolSize: poolSize, strides: strides, padding: padding)
        let inputShape = shape
        return Variable.record("avgPool2D", value: output, inputs: [self]) { g in
            [Tensor.avgPool2DBackward(
                gradient: g, inputShape: inputShape, poolSize: poolSize, strides: strides, padding: padding)]
        }
    }

    /// Global average pooling `[N, H, W, C] -> [N, C]` (Keras `GlobalAveragePooling2D`).
    public func globalAveragePool2D() -> Variable {
        let inputShape = shape
        return Variable.record("globalAveragePool2D", value: value.globalAveragePool2D(), inputs: [self]) { g in
            [Tensor.globalAveragePool2DBackward(gradient: g, inputShape: inputShape)]
        }
    }
}
