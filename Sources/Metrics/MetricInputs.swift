import Tensor

/// Validation and conversion of the inputs every metric accepts: `[Double]` / `[Float]` scores,
/// `[Int]` labels, and `Tensor` probabilities or labels.
enum MetricInputs {
    /// The scores as `Double`, without a copy when they already are.
    static func doubles<Score: BinaryFloatingPoint>(_ values: [Score]) -> [Double] {
        if let d = values as? [Double] { return d }
        if let f = values as? [Float] { return f.map { Double($0) } }
        return values.map { Double($0) }
    }

    /// Stops with a precondition naming both counts when labels and samples disagree.
    static func checkCounts(labels: Int, samples: Int, operation: String) {
        precondition(labels == samples, "\(operation): \(labels) labels but \(samples) samples of scores")
    }

    /// Throws ``MetricsError/nanScore(operation:index:)`` for the first NaN; `width` values per sample.
    static func checkNoNaN(_ scores: [Double], width: Int = 1, operation: String) throws {
        if let i = scores.firstIndex(where: { $0.isNaN }) {
            throw MetricsError.nanScore(operation: operation, index: i / width)
        }
    }

    /// Throws ``MetricsError/invalidLabel(operation:index:label:classCount:)`` for the first label
    /// outside `0 ..< classCount`.
    static func checkLabels(_ labels: [Int], classCount: Int, operation: String) throws {
        if let i = labels.firstIndex(where: { $0 < 0 || $0 >= classCount }) {
            throw MetricsError.invalidLabel(operation: operation, index: i, label: labels[i], classCount: classCount)
        }
    }

    /// Binary labels (0 or 1) as "is positive" flags, validated.
    static func positives(_ labels: [Int], operation: String) throws -> [Bool] {
        try checkLabels(labels, classCount: 2, operation: operation)
        return labels.map { $0 == 1 }
    }

    /// A score tensor as row-major `Double`s and the number of values per sample:
    /// `[N]` and `[N, 1]` give width 1, `[N, C]` gives width `C`.
    static func rows<S: TensorScalar>(_ tensor: Tensor<S>, operation: String) -> (values: [Double], width: Int) {
        precondition(
            tensor.rank == 1 || tensor.rank == 2,
            "\(operation): expected scores of shape [N], [N, 1] or [N, C], got \(tensor.shape)")
        let width = tensor.rank == 1 ? 1 : tensor.shape[1]
        precondition(width >= 1, "\(operation): scores of shape \(tensor.shape) have no columns")
        return (doubles(tensor.scalars), width)
    }

    /// The positive-class score of each sample of a binary score tensor: `[N]` or `[N, 1]` as is,
    /// `[N, 2]` (two-class softmax) its column 1.
    static func binaryScores<S: TensorScalar>(_ tensor: Tensor<S>, operation: String) -> [Double] {
        let (values, width) = rows(tensor, operation: operation)
        precondition(
            width <= 2,
            "\(operation): binary scores must have shape [N], [N, 1] or [N, 2], got \(tensor.shape)")
        if width == 1 { return values }
        return (0..<(values.count / 2)).map { values[2 * $0 + 1] }
    }

    /// Labels from a tensor: `[N]` or `[N, 1]` hold class indices (0, 1, 2, ... stored as floating
    /// point), `[N, C]` with `C > 1` holds one-hot rows (the argmax is the class).
    static func labels<S: TensorScalar>(_ tensor: Tensor<S>, operation: String) throws -> [Int] {
        let (values, width) = rows(tensor, operation: operation)
        if width > 1 {
            try checkNoNaN(values, width: width, operation: operation)
            return argmax(values, width: width)
        }
        var result = [Int]()
        result.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            guard v.isFinite, v >= 0, v == v.rounded(), v < Double(Int32.max) else {
                throw MetricsError.invalidArgument(
                    operation: operation, message: "label \(v) at index \(i) is not a class index")
            }
            result.append(Int(v))
        }
        return result
    }

    /// The index of the largest value in each row of `width` values; the first wins a tie
    /// (NumPy's `argmax`).
    static func argmax(_ values: [Double], width: Int) -> [Int] {
        let n = width == 0 ? 0 : values.count / width
        var result = [Int](repeating: 0, count: n)
        values.withUnsafeBufferPointer { v in
            for i in 0..<n {
                let row = i * width
                var best = 0
                var bestValue = v[row]
                for j in 1..<width where v[row + j] > bestValue {
                    best = j
                    bestValue = v[row + j]
                }
                result[i] = best
            }
        }
        return result
    }
}
