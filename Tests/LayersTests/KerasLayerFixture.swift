import Foundation
import Layers
import TestSupport
import Testing

// Comparison of a layer with the Keras reference cases in Fixtures/layers_conv.json, written by
// Tests/ReferenceScripts/layers_conv_fixtures.py (Keras 3.15.1 on TensorFlow 2.21.0, float64).

/// The Keras fixture file for the convolution, pooling and reshaping layers.
func layersConvFixture() throws -> ReferenceFixture {
    try ReferenceFixture.load("layers_conv.json", from: Bundle.module)
}

/// Builds `layer` for the fixture case's input, loads the Keras weights into its variables, runs
/// forward and backward (upstream gradient `upstream`) and compares the output, the input
/// gradient and every weight gradient with Keras's within `tolerance`; also checks the parameter
/// count and the output shape.
func expectMatchesKeras<S: TensorScalar>(
    _ caseName: String, _ layer: any Layer<S>, tolerance: Double, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let fixture = try layersConvFixture().case(caseName)
    let x: Tensor<S> = try fixture.tensor("input")
    let expected: Tensor<S> = try fixture.tensor("output")
    var generator = SeededGenerator(seed: 1)
    try layer.build(inputShape: Array(x.shape.dropFirst()), generator: &generator)
    #expect(layer.parameterCount == (try fixture.int("param_count")), "\(caseName): parameter count", sourceLocation: sourceLocation)
    #expect(
        try layer.outputShape(for: Array(x.shape.dropFirst())) == Array(expected.shape.dropFirst()),
        "\(caseName): output shape", sourceLocation: sourceLocation)
    let weights = layer.weights
    try #require(weights.count == (try fixture.int("weight_count")), "\(caseName): weight count", sourceLocation: sourceLocation)
    for (i, weight) in weights.enumerated() {
        let value: Tensor<S> = try fixture.tensor("weight_\(i)")
        try #require(
            weight.variable.value.shape == value.shape,
            "\(caseName): weight \(weight.name) has shape \(weight.variable.value.shape), Keras \(value.shape)",
            sourceLocation: sourceLocation)
        weight.variable.value = value
        weight.variable.zeroGradient()
    }

    let input = Variable(x, requiresGradient: true)
    var context = ForwardContext.inference
    let y = layer(input, context: &context)
    #expect(
        maxRelativeDifference(y.value, expected) <= tolerance,
        "\(caseName): output differs by \(maxRelativeDifference(y.value, expected))", sourceLocation: sourceLocation)
    y.backward(seed: try fixture.tensor("upstream"))

    let gradInput: Tensor<S> = try fixture.tensor("grad_input")
    let actualGradInput = input.gradient ?? Tensor.zeros(x.shape)
    #expect(
        maxRelativeDifference(actualGradInput, gradInput) <= tolerance,
        "\(caseName): input gradient differs by \(maxRelativeDifference(actualGradInput, gradInput))",
        sourceLocation: sourceLocation)
    for (i, weight) in weights.enumerated() {
        let expectedGradient: Tensor<S> = try fixture.tensor("grad_weight_\(i)")
        let actual = weight.variable.gradient ?? Tensor.zeros(weight.variable.shape)
        #expect(
            maxRelativeDifference(actual, expectedGradient) <= tolerance,
            "\(caseName): gradient of \(weight.name) differs by \(maxRelativeDifference(actual, expectedGradient))",
            sourceLocation: sourceLocation)
    }
}

/// Builds `layer` for a Keras shape case's input shape and checks the output shape and the
/// parameter count against Keras's.
func expectShapeMatchesKeras(
    _ caseName: String, _ layer: any Layer<Float>, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let fixture = try layersConvFixture().case(caseName)
    let inputShape = try (0..<3).map { try fixture.int("in_\($0)") }
    let outputShape = try (0..<fixture.int("out_rank")).map { try fixture.int("out_\($0)") }
    var generator = SeededGenerator(seed: 1)
    try layer.build(inputShape: inputShape, generator: &generator)
    #expect(try layer.outputShape(for: inputShape) == outputShape, "\(caseName): output shape", sourceLocation: sourceLocation)
    #expect(layer.parameterCount == (try fixture.int("param_count")), "\(caseName): parameter count", sourceLocation: sourceLocation)
}

/// Checks the gradients of `layer` (built for `inputShape`, batch included) with respect to a
/// random input and every trainable weight against central finite differences in Double.
func expectGradientsCheck(
    _ layer: any Layer<Double>, inputShape: [Int], seed: UInt64 = 11, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    var generator = SeededGenerator(seed: seed)
    try layer.build(inputShape: Array(inputShape.dropFirst()), generator: &generator)
    // Random biases too, so the check does not sit at zero-initialized values.
    for weight in layer.weights {
        weight.variable.value = Tensor.uniform(weight.variable.shape, lower: -0.8, upper: 0.8, generator: &generator)
    }
    let input = Variable(Tensor<Double>.normal(inputShape, generator: &generator), requiresGradient: true)
    let result = checkGradients(of: [input] + layer.trainableVariables) {
        var context = ForwardContext.inference
        return layer(input, context: &context)
    }
    #expect(result.passed, "\(layer.typeName): \(result)", sourceLocation: sourceLocation)
    let expectedCount = inputShape.reduce(1, *) + layer.trainableParameterCount
    #expect(result.checkedCount == expectedCount, sourceLocation: sourceLocation)
}
