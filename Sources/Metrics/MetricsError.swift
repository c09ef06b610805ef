/// Errors thrown by the metrics when the data make a result undefined or invalid.
///
/// Conventions for undefined values (documented once here, applied everywhere):
/// - A ratio whose denominator is zero (precision with no predicted positives, recall of a class
///   with no samples, ...) is **0**, like scikit-learn's `zero_division=0`. It is not an error.
/// - Matthews correlation is **0** when any marginal of the confusion matrix is constant.
/// - ROC curves, ROC AUC (exact and Keras-style) and threshold selection need both classes among
///   the labels; with only one class they throw ``singleClass(operation:presentClasses:)``.
///   (scikit-learn 1.9 returns NaN with an `UndefinedMetricWarning` there; a thrown error cannot be
///   averaged away silently.)
/// - Average precision with no positive label is 0, as scikit-learn computes it.
/// - A NaN score throws ``nanScore(operation:index:)`` naming the first offending sample.
///   Infinite scores are allowed and rank as the extreme values.
/// - Labels outside `0 ..< classCount` throw ``invalidLabel(operation:index:label:classCount:)``.
/// - Label and score counts that disagree are programming errors and stop with a precondition
///   naming both counts, like every shape mismatch in the library.
public enum MetricsError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The score at `index` is NaN.
    case nanScore(operation: String, index: Int)
    /// The label at `index` is not a class index in `0 ..< classCount`.
    case invalidLabel(operation: String, index: Int, label: Int, classCount: Int)
    /// The metric needs at least two classes among the labels; only `presentClasses` occur.
    case singleClass(operation: String, presentClasses: [Int])
    /// An argument is out of its valid range.
    case invalidArgument(operation: String, message: String)

    /// A message naming the operation and the offending value.
    public var description: String {
        switch self {
        case let .nanScore(operation, index):
            return "\(operation): score at index \(index) is NaN"
        case let .invalidLabel(operation, index, label, classCount):
            return "\(operation): label \(label) at index \(index) is not a class in 0..<\(classCount)"
        case let .singleClass(operation, present):
            return "\(operation): undefined with only the classes \(present) present among the labels; both positive and negative samples are needed"
        case let .invalidArgument(operation, message):
            return "\(operation): \(message)"
        }
    }
}
