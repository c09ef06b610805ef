import Foundation

/// How samples are labelled.
public enum Labelling: String, Codable, Sendable {
    /// By class folder, classes in sorted folder-name order (Keras's `image_dataset_from_directory`):
    /// for the chest X-rays 0 = NORMAL, 1 = PNEUMONIA.
    case folders
    /// The cause of pneumonia from the file name: 0 = normal (no `_bacteria_` / `_virus_`),
    /// 1 = bacteria (`_bacteria_`), 2 = virus (`_virus_`).
    case pneumoniaCause
}

/// One image file of a folder data set.
public struct ImageRecord: Sendable, Codable, Equatable {
    /// The file.
    public let path: String
    /// The class index under the labelling used.
    public let label: Int
    /// The patient the image belongs to (``ImageFolder/patientID(fileName:)``).
    public let patient: String
    /// File size in bytes (part of the cache key).
    public let size: Int
    /// Modification time in seconds since 1970 (part of the cache key).
    public let modified: Double

    /// The file name without folders.
    public var fileName: String { (path as NSString).lastPathComponent }
}

/// A folder of images with one subfolder per class (`root/{CLASS_A,CLASS_B,...}/*.jpeg`), as in
/// each split of the Kaggle chest X-ray layout `chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}`.
public struct ImageFolder: Sendable {
    /// The class folder (or split) root.
    public let root: URL
    /// Class names in label order.
    public let classNames: [String]
    /// All image files, sorted by class folder, then by file name.
    public let records: [ImageRecord]

    /// The file extensions read (case-insensitive); other files (`.DS_Store`, notes) are ignored.
    public static let imageExtensions: Set<String> = ["jpeg", "jpg", "png"]

    /// Lists the images under `root`. Throws when `root` is missing, has no class subfolders, or a
    /// class folder has no image files (naming the folder), and, for ``Labelling/pneumoniaCause``,
    /// when a file's name contradicts its folder (a `_virus_` file under NORMAL).
    public init(root: URL, labelling: Labelling = .folders) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.missingFolder(path: root.path)
        }
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root.path) } catch {
            throw DatasetError.unreadableFile(path: root.path, message: error.localizedDescription)
        }
        let folders = entries.filter { name in
            var dir: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &dir) && dir.boolValue
        }.sorted()
        guard !folders.isEmpty else { throw DatasetError.emptyFolder(path: root.path, message: "no class subfolders") }
        var records: [ImageRecord] = []
        for (folderIndex, folder) in folders.enumerated() {
            let folderURL = root.appendingPathComponent(folder)
            let files: [String]
            do { files = try fm.contentsOfDirectory(atPath: folderURL.path) } catch {
                throw DatasetError.unreadableFile(path: folderURL.path, message: error.localizedDescription)
            }
            let images = files.filter { !$0.hasPrefix(".") && Self.imageExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            guard !images.isEmpty else { throw DatasetError.emptyFolder(path: folderURL.path, message: "no .jpeg, .jpg or .png files") }
            for name in images {
                let path = folderURL.appendingPathComponent(name).path
                let attributes = try? fm.attributesOfItem(atPath: path)
                let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                let label: Int
                switch labelling {
                case .folders:
                    label = folderIndex
                case .pneumoniaCause:
                    label = Self.pneumoniaCause(fileName: name)
                    let folderSaysNormal = folder.uppercased() == "NORMAL"
                    if folderSaysNormal != (label == 0) {
                        throw DatasetError.invalidArgument("\(path): the file name's cause (\(Self.causeClassNames[label])) contradicts its folder \(folder)")
                    }
                }
                records.append(ImageRecord(path: path, label: label, patient: Self.patientID(fileName: name), size: size, modified: modified))
            }
        }
        self.root = root
        self.classNames = labelling == .folders ? folders : Self.causeClassNames
        self.records = records
    }

    /// The class names of ``Labelling/pneumoniaCause``.
    public static let causeClassNames = ["NORMAL", "BACTERIA", "VIRUS"]

    /// 0 = normal, 1 = bacteria, 2 = virus, from `_bacteria_` / `_virus_` in a file name.
    public static func pneumoniaCause(fileName: String) -> Int {
        let lower = fileName.lowercased()
        if lower.contains("_bacteria_") { return 1 }
        if lower.contains("_virus_") { return 2 }
        return 0
    }

    /// The patient of a Kermany chest X-ray file name: `person1234` for `person1234_bacteria_5.jpeg`,
    /// `IM-0115` for `IM-0115-0001.jpeg`, `NORMAL2-IM-0427` for `NORMAL2-IM-0427-0001(-0002).jpeg`;
    /// any other name is its own patient (the name without extension).
    public static func patientID(fileName: String) -> String {
        let stem = (fileName as NSString).deletingPathExtension
        if stem.lowercased().hasPrefix("person"), let underscore = stem.firstIndex(of: "_") {
            return String(stem[..<underscore])
        }
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        if let im = parts.firstIndex(where: { $0.uppercased() == "IM" }), im + 1 < parts.count {
            return parts[...(im + 1)].joined(separator: "-")
        }
        return stem
    }
}

/// The Kaggle chest X-ray layout `root/{train,val,test}/{CLASS...}`: one ``ImageFolder`` per split
/// present (the test split may be withheld).
public struct SplitFolders: Sendable {
    /// The splits found, by name (`train`, `val`, `test`).
    public let splits: [String: ImageFolder]

    /// Reads every split folder of `root` that exists; throws when `root` is missing or has none of
    /// `names`.
    public init(root: URL, names: [String] = ["train", "val", "test"], labelling: Labelling = .folders) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DatasetError.missingFolder(path: root.path)
        }
        var splits: [String: ImageFolder] = [:]
        for name in names where FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path) {
            splits[name] = try ImageFolder(root: root.appendingPathComponent(name), labelling: labelling)
        }
        guard !splits.isEmpty else {
            throw DatasetError.emptyFolder(path: root.path, message: "none of the split folders \(names.joined(separator: ", "))")
        }
        self.splits = splits
    }
}
