import Foundation

extension ImageRecord {
    /// A record of a sample that is not a file of an ``ImageFolder`` (an image of a NumPy archive,
    /// a file given on a command line): `file` names it, `patient` defaults to that name, and the
    /// size and modification time (used only as cache keys) are 0.
    public init(file: String, label: Int, patient: String? = nil) {
        self.init(path: file, label: label, patient: patient ?? file, size: 0, modified: 0)
    }
}
