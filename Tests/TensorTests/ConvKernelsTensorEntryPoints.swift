@testable import Tensor

// Tensor-level entry points to the pointer-level convolution kernels, with their test knobs
// (forced paths, chunk and block sizes, thread parts, the portable C loops), for the kernel
// tests: each allocates its result and runs the same kernel function as the public API.

extension ConvKernels {
    /// A tensor of `shape` written by `body` from the storage of `a`, `b` and (optional) `c`.
    static func result<T: TensorScalar>(
        _ shape: [Int], _ a: Tensor<T>, _ b: Tensor<T>, _ c: Tensor<T>? = nil,
        _ body: (UnsafePointer<T>, UnsafePointer<T>, UnsafePointer<T>?, UnsafeMutablePointer<T>) -> Void
    ) -> Tensor<T> {
        Tensor<T>.buildUninitialized(shape: shape) { out in
            Tensor<T>.withOperands(a, b, c) { x, y, z in body(x, y, z, out) }
        }
    }

    /// ``forward(_:_:_:outChannels:bias:applyingReLU:into:columnLimit:allowWinograd:allowDirect:)`` into a new tensor.
    static func forward<T: TensorScalar>(
        _ input: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, columnLimit: Int? = nil,
        allowWinograd: Bool = true, allowDirect: Bool = true
    ) -> Tensor<T> {
        let cout = filter.shape[3]
        return result(g.outputShape(channels: cout), input, filter) { x, f, _, out in
            forward(x, f, g, outChannels: cout, into: out, columnLimit: columnLimit,
                    allowWinograd: allowWinograd, allowDirect: allowDirect)
        }
    }

    /// ``backwardInput(_:_:_:outChannels:into:columnLimit:allowWinograd:allowDirect:)`` into a new tensor.
    static func backwardInput<T: TensorScalar>(
        _ gradient: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, columnLimit: Int? = nil,
        allowWinograd: Bool = true, allowDirect: Bool = true
    ) -> Tensor<T> {
        let cout = filter.shape[3]
        return result([g.batch, g.inputHeight, g.inputWidth, g.inputChannels], gradient, filter) { dy, f, _, dx in
            backwardInput(dy, f, g, outChannels: cout, into: dx, columnLimit: columnLimit,
                          allowWinograd: allowWinograd, allowDirect: allowDirect)
        }
    }

    /// ``backwardFilter(_:_:_:outChannels:into:columnLimit:allowWinograd:allowDirect:)`` into a new tensor.
    static func backwardFilter<T: TensorScalar>(
        _ gradient: Tensor<T>, _ input: Tensor<T>, _ filterShape: [Int], _ g: Conv2DGeometry,
        columnLimit: Int? = nil, allowWinograd: Bool = true, allowDirect: Bool = true
    ) -> Tensor<T> {
        result(filterShape, gradient, input) { dy, x, _, df in
            backwardFilter(dy, x, g, outChannels: filterShape[3], into: df, columnLimit: columnLimit,
                           allowWinograd: allowWinograd, allowDirect: allowDirect)
        }
    }

    /// ``winogradForward(_:_:_:outChannels:bias:applyingReLU:into:chunkTiles:parts:)`` into a new tensor.
    static func winogradForward<T: WinogradScalar>(
        _ input: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, bias: Tensor<T>? = nil, applyingReLU: Bool = false,
        chunkTiles: Int? = nil, parts: Int? = nil
    ) -> Tensor<T> {
        let cout = filter.shape[3]
        return result(g.outputShape(channels: cout), input, filter, bias) { x, f, b, out in
            winogradForward(x, f, g, outChannels: cout, bias: b, applyingReLU: applyingReLU, into: out,
                            chunkTiles: chunkTiles, parts: parts)
        }
    }

    /// ``winogradBackwardInput(_:_:_:outChannels:into:chunkTiles:parts:)`` into a new tensor.
    static func winogradBackwardInput<T: WinogradScalar>(
        _ gradient: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry, chunkTiles: Int? = nil, parts: Int? = nil
    ) -> Tensor<T> {
        let cout = filter.shape[3]
        return result([g.batch, g.inputHeight, g.inputWidth, g.inputChannels], gradient, filter) { dy, f, _, dx in
            winogradBackwardInput(dy, f, g, outChannels: cout, into: dx, chunkTiles: chunkTiles, parts: parts)
        }
    }

    /// ``winogradForwardFloat(_:_:_:outChannels:bias:applyingReLU:into:blockTiles:parts:)`` into a new tensor.
    static func winogradForwardFloat(
        _ input: Tensor<Float>, _ filter: Tensor<Float>, _ g: Conv2DGeometry, bias: Tensor<Float>?, applyingReLU: Bool,
        blockTiles: Int? = nil, parts: Int? = nil
    ) -> Tensor<Float> {
        let cout = filter.shape[3]
        return result(g.outputShape(channels: cout), input, filter, bias) { x, f, b, out in
            winogradForwardFloat(x, f, g, outChannels: cout, bias: b, applyingReLU: applyingReLU, into: out,
                                 blockTiles: blockTiles, parts: parts)
        }
    }

    /// ``winogradBackwardInputFloat(_:_:_:outChannels:into:blockTiles:parts:)`` into a new tensor.
    static func winogradBackwardInputFloat(
        _ gradient: Tensor<Float>, _ filter: Tensor<Float>, _ g: Conv2DGeometry, blockTiles: Int? = nil, parts: Int? = nil
    ) -> Tensor<Float> {
        let cout = filter.shape[3]
        return result([g.batch, g.inputHeight, g.inputWidth, g.inputChannels], gradient, filter) { dy, f, _, dx in
            winogradBackwardInputFloat(dy, f, g, outChannels: cout, into: dx, blockTiles: blockTiles, parts: parts)
        }
    }

    /// ``winogradBackwardFilterFloat(_:_:_:outChannels:into:blockTiles:parts:)`` into a new tensor.
    static func winogradBackwardFilterFloat(
        _ gradient: Tensor<Float>, _ input: Tensor<Float>, _ g: Conv2DGeometry, outChannels cout: Int,
        blockTiles: Int? = nil, parts: Int? = nil
    ) -> Tensor<Float> {
        result([3, 3, g.inputChannels, cout], gradient, input) { dy, x, _, df in
            winogradBackwardFilterFloat(dy, x, g, outChannels: cout, into: df, blockTiles: blockTiles, parts: parts)
        }
    }

    /// ``directForward(_:_:_:outChannels:bias:applyingReLU:into:portable:)`` into a new tensor.
    static func directForward(
        _ input: Tensor<Float>, _ filter: Tensor<Float>, _ g: Conv2DGeometry, bias: Tensor<Float>? = nil,
        applyingReLU: Bool = false, portable: Bool = false
    ) -> Tensor<Float> {
        let cout = filter.shape[3]
        return result(g.outputShape(channels: cout), input, filter, bias) { x, f, b, out in
            directForward(x, f, g, outChannels: cout, bias: b, applyingReLU: applyingReLU, into: out, portable: portable)
        }
    }

    /// ``directBackwardFilter(_:_:_:outChannels:into:portable:)`` into a new tensor.
    static func directBackwardFilter(
        _ gradient: Tensor<Float>, _ input: Tensor<Float>, _ filterShape: [Int], _ g: Conv2DGeometry,
        portable: Bool = false
    ) -> Tensor<Float> {
        result(filterShape, gradient, input) { dy, x, _, df in
            directBackwardFilter(dy, x, g, outChannels: filterShape[3], into: df, portable: portable)
        }
    }

    /// ``depthwiseForward(_:_:_:multiplier:into:)`` (the generic loops) into a new tensor.
    static func depthwiseForward<T: TensorScalar>(_ input: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry) -> Tensor<T> {
        let m = filter.shape[3]
        return result(g.outputShape(channels: g.inputChannels * m), input, filter) { x, f, _, out in
            depthwiseForward(x, f, g, multiplier: m, into: out)
        }
    }

    /// ``depthwiseBackwardInput(_:_:_:multiplier:into:)`` (the generic loops) into a new tensor.
    static func depthwiseBackwardInput<T: TensorScalar>(
        _ gradient: Tensor<T>, _ filter: Tensor<T>, _ g: Conv2DGeometry
    ) -> Tensor<T> {
        let m = filter.shape[3]
        return result([g.batch, g.inputHeight, g.inputWidth, g.inputChannels], gradient, filter) { dy, f, _, dx in
            depthwiseBackwardInput(dy, f, g, multiplier: m, into: dx)
        }
    }

    /// ``depthwiseBackwardFilter(_:_:_:multiplier:into:)`` (the generic loops) into a new tensor.
    static func depthwiseBackwardFilter<T: TensorScalar>(
        _ gradient: Tensor<T>, _ input: Tensor<T>, _ filterShape: [Int], _ g: Conv2DGeometry
    ) -> Tensor<T> {
        result(filterShape, gradient, input) { dy, x, _, df in
            depthwiseBackwardFilter(dy, x, g, multiplier: filterShape[3], into: df)
        }
    }
}
