import Foundation

/// Errors thrown while reading image folders, image files, NumPy arrays and caches. Every case
/// names the file or folder it is about.
public enum DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A file could not be read from disk.
    case unreadableFile(path: String, message: String)
    /// A file is corrupt, truncated or not an image the decoders know.
    case corruptImage(path: String, message: String)
    /// A valid file of a kind that is not supported (CMYK JPEG, 16-bit PNG, an unknown dtype...).
    case unsupported(path: String, message: String)
    /// A folder that must exist does not.
    case missingFolder(path: String)
    /// A folder holds no class subfolders, or a class folder holds no image files.
    case emptyFolder(path: String, message: String)
    /// A NumPy `.npy` / `.npz` file is malformed.
    case invalidArray(path: String, message: String)
    /// An argument is invalid (a fraction, a size, a label scheme that does not fit the files).
    case invalidArgument(String)

    /// A one-line message naming the file or folder.
    public var description: String {
        switch self {
        case let .unreadableFile(path, message): return "cannot read \(path): \(message)"
        case let .corruptImage(path, message): return "corrupt or truncated image \(path): \(message)"
        case let .unsupported(path, message): return "unsupported file \(path): \(message)"
        case let .missingFolder(path): return "missing folder \(path)"
        case let .emptyFolder(path, message): return "empty folder \(path): \(message)"
        case let .invalidArray(path, message): return "invalid NumPy file \(path): \(message)"
        case let .invalidArgument(message): return message
        }
    }
}
