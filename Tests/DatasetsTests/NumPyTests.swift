import Foundation
import Tensor
import Testing

@testable import Datasets

@Suite("NumPy .npy and .npz files")
struct NumPyTests {
    @Test("Stored (savez) and deflated (savez_compressed) archives round-trip every dtype", arguments: ["arrays_stored.npz", "arrays_deflated.npz"])
    func npz(name: String) throws {
        let archive = try NumPyArchive(contentsOf: Fixtures.url(name))
        #expect(archive.names == ["doubles", "floats", "ints", "scalar", "train_images", "train_labels"])
        let expected = try Fixtures.reference.case("npz")
        for key in archive.names {
            let reference = try expected.tensor(key, as: Double.self)
            let array = try archive.array(key)
            #expect(array.shape == reference.shape, "\(key)")
            #expect(array.doubles() == reference.scalars, "\(key)")
        }
        #expect(try archive.array("train_images").dtype == .uint8)
        #expect(try archive.array("floats").dtype == .float32)
        #expect(try archive.array("ints").dtype == .int64)
        let images = try archive.array("train_images").tensor(as: Float.self, scale: 1.0 / 255)
        #expect(images.shape == [5, 4, 3] && images.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
    }

    @Test("A single .npy file")
    func npy() throws {
        let array = try NumPyArray(contentsOf: Fixtures.url("array.npy"))
        #expect(array.dtype == .int32 && array.shape == [2, 3])
        #expect(array.doubles() == (try Fixtures.doubles("npz", "ints")))
    }

    @Test("Corrupt archives throw errors naming the file")
    func corrupt() throws {
        var bytes = [UInt8](try Data(contentsOf: Fixtures.url("arrays_deflated.npz")))
        #expect(throws: DatasetError.self) { try NumPyArchive(zip: Array(bytes.prefix(bytes.count / 2)), path: "half.npz") }
        bytes[120] ^= 0xFF  // inside the first member's compressed data (after the ZIP64 local header)
        do {
            _ = try NumPyArchive(zip: bytes, path: "flipped.npz")
            Issue.record("a damaged archive was read")
        } catch {
            #expect("\(error)".contains("flipped.npz"))
        }
        #expect(throws: DatasetError.self) { try NumPyArray(npy: Array("not numpy".utf8), path: "x.npy") }
    }

    @Test("The real PneumoniaMNIST archives (../shared/data/pneumoniamnist) have the documented counts")
    func pneumoniaMNIST() throws {
        let files: [(String, [Int], [Int])] = [
            ("pneumoniamnist_balanced.npz", [2428, 270, 468], [1214, 1214]),
            ("pneumoniamnist_reduced_train_normal.npz", [3882, 524, 624], [388, 3494]),
            ("pneumoniamnist_reconstructed.npz", [4708, 524, 624], [1214, 3494]),
        ]
        guard SharedData.exists("pneumoniamnist") else {
            print("skipped: \(SharedData.root.path)/pneumoniamnist is absent")
            return
        }
        for (name, counts, trainClasses) in files {
            let archive = try NumPyArchive(contentsOf: SharedData.root.appendingPathComponent("pneumoniamnist/\(name)"))
            for (split, n) in zip(["train", "val", "test"], counts) {
                let data = try MedMNIST.load(archive, split: split, as: Float.self)
                #expect(data.x.shape == [n, 28, 28, 1] && data.y.shape == [n, 1], "\(name) \(split)")
                #expect(data.x.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
            }
            let labels = try archive.array("train_labels").doubles()
            #expect([labels.filter { $0 == 0 }.count, labels.filter { $0 == 1 }.count] == trainClasses, "\(name)")
        }
    }
}
