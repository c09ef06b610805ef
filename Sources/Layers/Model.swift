import Foundation

// Model-level operations that work on any layer used as the root of a model: naming, building
// with a seed, weight enumeration with stable names, and the Keras-style summary.

extension Layer {
    /// This layer and every layer it contains, depth first, parents before children.
    public var allLayers: [any Layer<Scalar>] {
        [self] + sublayers.flatMap { $0.allLayers }
    }

    /// Gives every unnamed layer in the model a unique Keras-style name (`conv2d`, `conv2d_1`,
    /// ...), in depth-first order; names already set are kept. The model's own name (this layer's)
    /// does not take a name from its layers: a model called `dense` still has a layer `dense`.
    public func assignNames() {
        let layers = allLayers
        var used = Set(layers.dropFirst().map(\.name).filter { !$0.isEmpty })
        var counters: [String: Int] = [:]
        for layer in layers where layer.name.isEmpty {
            let base = kerasSnakeCase(layer.typeName)
            var candidate: String
            repeat {
                let n = counters[base, default: 0]
                counters[base] = n + 1
                candidate = n == 0 ? base : "\(base)_\(n)"
            } while used.contains(candidate)
            layer.name = candidate
            used.insert(candidate)
        }
    }

    /// Names every layer, then builds the model for `inputShape` (without the batch dimension)
    /// with initial weights drawn from `seed`.
    public func buildModel(inputShape: [Int], seed: UInt64) throws {
        assignNames()
        var generator = SeededGenerator(seed: seed)
        try build(inputShape: inputShape, generator: &generator)
    }

    /// Every weight of the model with its stable full name, `layer.weight` (for example
    /// `conv2d_1.kernel`), in depth-first layer order. Names are unique once
    /// ``assignNames()`` has run (building with ``buildModel(inputShape:seed:)`` does it).
    public var namedWeights: [(name: String, weight: LayerWeight<Scalar>)] {
        allLayers.flatMap { layer in layer.weights.map { ("\(layer.name).\($0.name)", $0) } }
    }

    /// The variables an optimizer updates, in the order of ``namedWeights``.
    public var trainableVariables: [Variable<Scalar>] {
        namedWeights.filter { $0.weight.isTrainable }.map { $0.weight.variable }
    }

    /// The number of scalars in trainable weights.
    public var trainableParameterCount: Int {
        namedWeights.filter { $0.weight.isTrainable }.reduce(0) { $0 + $1.weight.variable.value.count }
    }

    /// The number of scalars in all weights (trainable and not).
    public var totalParameterCount: Int {
        namedWeights.reduce(0) { $0 + $1.weight.variable.value.count }
    }

    /// The model applied to a batch in inference mode, without recording gradients, after
    /// checking the input's shape: throws ``LayerError/shapeMismatch(operation:expected:got:)``
    /// naming both shapes when the batch does not match the built input shape.
    public func predict(_ input: Tensor<Scalar>) throws -> Tensor<Scalar> {
        try checkInput(input.shape)
        return self(input)
    }

    /// Throws when `shape` (with batch) does not match the built input shape.
    public func checkInput(_ shape: [Int]) throws {
        let expected = requireBuilt()
        guard shape.count == expected.count + 1, Array(shape.dropFirst()) == expected else {
            throw LayerError.shapeMismatch(operation: "\(typeName) '\(name)' input", expected: [-1] + expected, got: shape)
        }
    }

    /// A Keras-style table of the model: every layer with its type, output shape (batch shown
    /// as `None`) and parameter count, then the totals. Sequential containers are transparent;
    /// other containers (such as ``Add``) get a row after their children.
    public func summary() -> String {
        var rows: [(String, String, String)] = []
        func visit(_ layer: any Layer<Scalar>, isRoot: Bool) {
            if !layer.sublayers.isEmpty {
                for child in layer.sublayers { visit(child, isRoot: false) }
                if layer.typeName == "Sequential" { return }
            }
            var shape = "?"
            if let input = layer.builtInputShape, let output = try? layer.outputShape(for: input) {
                shape = "(" + (["None"] + output.map(String.init)).joined(separator: ", ") + ")"
            }
            rows.append(("\(layer.name) (\(layer.typeName))", shape, formatCount(layer.parameterCount)))
        }
        visit(self, isRoot: true)

        let headers = ("Layer (type)", "Output Shape", "Param #")
        let w0 = max(headers.0.count, rows.map(\.0.count).max() ?? 0) + 2
        let w1 = max(headers.1.count, rows.map(\.1.count).max() ?? 0) + 2
        let w2 = max(headers.2.count, rows.map(\.2.count).max() ?? 0) + 2
        func pad(_ s: String, _ w: Int) -> String { s + String(repeating: " ", count: max(0, w - s.count - 1)) }
        func padLeft(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count - 1)) + s }
        func line(_ l: String, _ m: String, _ r: String, _ f: String) -> String {
            l + String(repeating: f, count: w0) + m + String(repeating: f, count: w1) + m + String(repeating: f, count: w2) + r
        }
        var out: [String] = []
        out.append("Model: \"\(name)\"")
        out.append(line("┏", "┳", "┓", "━"))
        out.append("┃ " + pad(headers.0, w0) + "┃ " + pad(headers.1, w1) + "┃" + padLeft(headers.2, w2) + " ┃")
        out.append(line("┡", "╇", "┩", "━"))
        for (i, row) in rows.enumerated() {
            out.append("│ " + pad(row.0, w0) + "│ " + pad(row.1, w1) + "│" + padLeft(row.2, w2) + " │")
            out.append(i == rows.count - 1 ? line("└", "┴", "┘", "─") : line("├", "┼", "┤", "─"))
        }
        let total = totalParameterCount, trainable = trainableParameterCount
        out.append(" Total params: \(formatCount(total)) (\(formatBytes(total * MemoryLayout<Scalar>.size)))")
        out.append(" Trainable params: \(formatCount(trainable)) (\(formatBytes(trainable * MemoryLayout<Scalar>.size)))")
        out.append(" Non-trainable params: \(formatCount(total - trainable)) (\(formatBytes((total - trainable) * MemoryLayout<Scalar>.size)))")
        return out.joined(separator: "\n")
    }
}

/// `1234567` as `1,234,567`.
func formatCount(_ n: Int) -> String {
    let digits = String(n)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return out
}

/// A byte count as Keras prints it (`13.17 MB`, `0.00 B`).
func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return String(format: "%.2f %@", value, units[unit])
}
