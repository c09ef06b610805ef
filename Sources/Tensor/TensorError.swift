/// Errors thrown by tensor construction, linear algebra and the data boundaries of the library.
///
/// Programming errors inside an expression (adding tensors whose shapes do not broadcast, an index
/// out of range) stop the program with a message that names both shapes, like an out-of-bounds
/// array index. Anything that depends on data (a file, a user-supplied shape, a singular matrix)
/// is thrown as one of these cases.
public enum TensorError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Two shapes that must agree do not; both are named.
    case shapeMismatch(operation: String, lhs: [Int], rhs: [Int])
    /// A shape or argument is invalid for the operation.
    case invalidArgument(operation: String, message: String)
    /// A LAPACK routine reported a failure (`info` is its return code).
    case lapackFailure(routine: String, info: Int, message: String)

    public var description: String {
        switch self {
        case let .shapeMismatch(operation, lhs, rhs):
            return "\(operation): shapes \(lhs) and \(rhs) do not match"
        case let .invalidArgument(operation, message):
            return "\(operation): \(message)"
        case let .lapackFailure(routine, info, message):
            return "\(routine) failed (info \(info)): \(message)"
        }
    }
}
