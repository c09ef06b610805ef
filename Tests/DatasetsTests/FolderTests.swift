import Foundation
import Tensor
import Testing

@testable import Datasets

@Suite("Image folders, datasets, cache and batches")
struct FolderTests {
    /// A small Kaggle-style folder: 3 NORMAL images (2 patients), 4 PNEUMONIA (3 patients).
    func makeSmallFolder() throws -> URL {
        let root = try temporaryDirectory()
        try makeFolder(root, [
            ("NORMAL", "images/gray.jpeg", "IM-0115-0001.jpeg"),
            ("NORMAL", "images/progressive.jpeg", "NORMAL2-IM-0427-0001.jpeg"),
            ("NORMAL", "images/gray.png", "NORMAL2-IM-0427-0002.png"),
            ("PNEUMONIA", "images/rgb420.jpeg", "person1_bacteria_1.jpeg"),
            ("PNEUMONIA", "images/rgb444.jpg", "person1_bacteria_2.jpg"),
            ("PNEUMONIA", "images/palette.png", "person22_virus_50.png"),
            ("PNEUMONIA", "images/rgb.png", "person3_virus_7.png"),
        ])
        try Data("notes".utf8).write(to: root.appendingPathComponent("PNEUMONIA/readme.txt"))
        return root
    }

    @Test("Patient ids and causes from Kermany file names")
    func names() {
        #expect(ImageFolder.patientID(fileName: "person1234_bacteria_3170.jpeg") == "person1234")
        #expect(ImageFolder.patientID(fileName: "IM-0115-0001.jpeg") == "IM-0115")
        #expect(ImageFolder.patientID(fileName: "NORMAL2-IM-0427-0001.jpeg") == "NORMAL2-IM-0427")
        #expect(ImageFolder.patientID(fileName: "NORMAL2-IM-0173-0001-0002.jpeg") == "NORMAL2-IM-0173")
        #expect(ImageFolder.pneumoniaCause(fileName: "person1_virus_6.jpeg") == 2)
        #expect(ImageFolder.pneumoniaCause(fileName: "person19_bacteria_48.jpeg") == 1)
        #expect(ImageFolder.pneumoniaCause(fileName: "IM-0115-0001.jpeg") == 0)
    }

    @Test("Folder scan: sorted classes, labels, patients, non-image files ignored; 3-class labelling")
    func scan() throws {
        let root = try makeSmallFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = try ImageFolder(root: root)
        #expect(folder.classNames == ["NORMAL", "PNEUMONIA"])
        #expect(folder.records.map(\.label) == [0, 0, 0, 1, 1, 1, 1])
        #expect(Set(folder.records.map(\.patient)) == ["IM-0115", "NORMAL2-IM-0427", "person1", "person22", "person3"])
        let cause = try ImageFolder(root: root, labelling: .pneumoniaCause)
        #expect(cause.classNames == ["NORMAL", "BACTERIA", "VIRUS"])
        #expect(cause.records.map(\.label) == [0, 0, 0, 1, 1, 2, 2])
    }

    @Test("Missing and empty folders give errors naming the folder")
    func folderErrors() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let missing = root.appendingPathComponent("absent")
        #expect(throws: DatasetError.missingFolder(path: missing.path)) { try ImageFolder(root: missing) }
        do { _ = try ImageFolder(root: root); Issue.record("an empty root was accepted") } catch {
            #expect("\(error)".contains(root.path) && "\(error)".contains("no class subfolders"))
        }
        try makeFolder(root, [("NORMAL", "images/gray.png", "a.png")])
        try FileManager.default.createDirectory(at: root.appendingPathComponent("PNEUMONIA"), withIntermediateDirectories: true)
        do { _ = try ImageFolder(root: root); Issue.record("an empty class folder was accepted") } catch {
            #expect("\(error)".contains(root.appendingPathComponent("PNEUMONIA").path))
        }
    }

    @Test("Loading decodes, converts to the channel count and resizes every image; corrupt files throw or are skipped and counted")
    func loadAndSkip() throws {
        let root = try makeSmallFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let p = ImagePreprocessing(width: 12, height: 10, channels: 1)
        let data = try ImageDataset.load(try ImageFolder(root: root), preprocessing: p, threads: 2)
        #expect(data.count == 7 && data.pixels.count == 7 * 120 && data.skipped.isEmpty && !data.loadedFromCache)
        // Each stored image equals decoding, converting and resizing that file alone.
        for (i, record) in data.records.enumerated() {
            #expect(data.image(at: i) == p.apply(to: try Image(contentsOf: URL(fileURLWithPath: record.path))))
        }
        try makeFolder(root, [("NORMAL", "corrupt/truncated.jpeg", "IM-0999-0001.jpeg"), ("PNEUMONIA", "corrupt/notes.jpeg", "person9_virus_9.jpeg")])
        let folder = try ImageFolder(root: root)
        do { _ = try ImageDataset.load(folder, preprocessing: p); Issue.record("a corrupt file was loaded") } catch {
            #expect("\(error)".contains("IM-0999-0001.jpeg"))
        }
        let skipping = try ImageDataset.load(folder, preprocessing: p, skipUnreadable: true)
        #expect(skipping.count == 7 && skipping.skipped.count == 2)
        #expect(skipping.skipped.map { ($0.path as NSString).lastPathComponent }.sorted() == ["IM-0999-0001.jpeg", "person9_virus_9.jpeg"])
        #expect(skipping.pixels == data.pixels)
    }

    @Test("The cache is reused, and rebuilt when a file or the preprocessing changes")
    func cache() throws {
        let root = try makeSmallFolder(), cacheDir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: cacheDir) }
        let p = ImagePreprocessing(width: 9, height: 9, channels: 3)
        let first = try ImageDataset.load(try ImageFolder(root: root), preprocessing: p, cacheDirectory: cacheDir)
        #expect(!first.loadedFromCache)
        let second = try ImageDataset.load(try ImageFolder(root: root), preprocessing: p, cacheDirectory: cacheDir)
        #expect(second.loadedFromCache && second.pixels == first.pixels && second.records == first.records)
        let other = try ImageDataset.load(try ImageFolder(root: root), preprocessing: ImagePreprocessing(width: 9, height: 9, channels: 1), cacheDirectory: cacheDir)
        #expect(!other.loadedFromCache)
        // Replace one file's content (size and time change): the cache is invalid.
        let target = root.appendingPathComponent("NORMAL/IM-0115-0001.jpeg")
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: Fixtures.url("images/rgb420.jpeg"), to: target)
        let third = try ImageDataset.load(try ImageFolder(root: root), preprocessing: p, cacheDirectory: cacheDir)
        #expect(!third.loadedFromCache && third.pixels != first.pixels)
        #expect(third.image(at: 0) == p.apply(to: try Image(contentsOf: target)))
        // A damaged cache file is ignored and rewritten.
        let files = try FileManager.default.contentsOfDirectory(at: cacheDir, includingPropertiesForKeys: nil)
        for f in files { try Data("garbage".utf8).write(to: f) }
        let fourth = try ImageDataset.load(try ImageFolder(root: root), preprocessing: p, cacheDirectory: cacheDir)
        #expect(!fourth.loadedFromCache && fourth.pixels == third.pixels)
    }

    @Test("Batches: NHWC in [0, 1], binary and one-hot targets, standardization")
    func batches() throws {
        let root = try makeSmallFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try ImageDataset.load(try ImageFolder(root: root), preprocessing: ImagePreprocessing(width: 6, height: 5, channels: 3))
        let source = ImageBatchSource<Float>(data)
        let (x, y) = try source.batch([4, 0])
        #expect(x.shape == [2, 5, 6, 3] && y.shape == [2, 1] && y.scalars == [1, 0])
        #expect(x.scalars.elementsEqual((data.image(at: 4).pixels + data.image(at: 0).pixels).map { Float($0) / 255 }) { abs($0 - $1) < 1e-6 })
        let oneHot = ImageBatchSource<Double>(data, labels: .oneHot).batch([1, 5], epoch: 0).y
        #expect(oneHot.shape == [2, 2] && oneHot.scalars == [1, 0, 0, 1])
        let stats = data.channelStatistics()
        let standardized = ImageBatchSource<Double>(data, scaling: .standardized(mean: stats.mean, std: stats.std)).batch(Array(0..<7), epoch: 0).x
        for ch in 0..<3 {
            let values = stride(from: ch, to: standardized.scalars.count, by: 3).map { standardized.scalars[$0] }
            let mean = values.reduce(0, +) / Double(values.count)
            let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)
            #expect(abs(mean) < 1e-5 && abs(variance - 1) < 1e-4)
        }
    }

    @Test("Augmented batches are fixed by seed, sample and epoch; oversampling balances classes; class weights like scikit-learn")
    func augmentedBatchesAndBalancing() throws {
        let root = try makeSmallFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try ImageDataset.load(try ImageFolder(root: root), preprocessing: ImagePreprocessing(width: 8, height: 8, channels: 1))
        let aug = Augmentation(rotationRange: 10, widthShiftRange: 0.1, zoomRange: 0.2, horizontalFlip: true)
        let a = ImageBatchSource<Float>(data, augmentation: aug, seed: 5), b = ImageBatchSource<Float>(data, augmentation: aug, seed: 5)
        let epoch0 = try a.batch([0, 1, 2]).x, again = try b.batch([2, 1, 0]).x
        // The same samples in another order and batch give the same images.
        #expect(Array(epoch0.scalars[0..<64]) == Array(again.scalars[128..<192]))
        // The plain batch is epoch 0; another epoch draws other augmentations, reproducibly.
        let epoch1 = a.batch([0, 1, 2], epoch: 1).x
        #expect(epoch1 != epoch0 && b.batch([0, 1, 2], epoch: 1).x == epoch1)
        #expect(a.batch([0, 1, 2], epoch: 0).x == epoch0)
        #expect(epoch0.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })

        let plain = ImageBatchSource<Float>(data)
        let balanced = plain.oversampled(seed: 1, augmentedCopies: Augmentation(zoomRange: 0.2))
        #expect(balanced.count == 8 && balanced.sampleLabels.filter { $0 == 0 }.count == 4)
        #expect(balanced.isCopy.filter { $0 }.count == 1)
        let copy = balanced.isCopy.firstIndex(of: true)!
        #expect(balanced.batch([copy], epoch: 0).x != plain.batch([balanced.entries[copy]], epoch: 0).x)

        // scikit-learn compute_class_weight("balanced", classes=[0, 1], y=[0]*3 + [1]*4): 7/6, 7/8.
        let weights = balancedClassWeights(labels: data.labels, classCount: 2)
        #expect(abs(weights[0]! - 7.0 / 6) < 1e-12 && abs(weights[1]! - 7.0 / 8) < 1e-12)
    }

    @Test("The prefetching loader serves the same batches as direct assembly, whatever the timing, and follows epochs")
    func prefetching() throws {
        let root = try makeSmallFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try ImageDataset.load(try ImageFolder(root: root), preprocessing: ImagePreprocessing(width: 8, height: 8, channels: 1))
        let source = ImageBatchSource<Float>(data, augmentation: Augmentation(rotationRange: 20, horizontalFlip: true), seed: 2)
        let loader = PrefetchingLoader(source, batchSize: 3, shuffleSeed: 11, prefetchDepth: 2)
        for epoch in 0..<3 {
            let order = loader.order(epoch: epoch)
            #expect(order.sorted() == Array(0..<7))
            for block in [[0, 1, 2], [3, 4, 5], [6]] {
                if epoch == 1 { usleep(2000) }  // let the producer run ahead
                let got = try loader.batch(block)
                let expected = source.batch(block.map { order[$0] }, epoch: epoch)
                #expect(got.x == expected.x && got.y == expected.y, "epoch \(epoch) block \(block)")
            }
        }
        #expect(loader.epoch == 3)
        #expect(loader.order(epoch: 0) != loader.order(epoch: 1))
        // Random access is served directly with the current epoch's mapping.
        let order3 = loader.order(epoch: 3)
        #expect(try loader.batch([5, 2]).x == source.batch([order3[5], order3[2]], epoch: 3).x)
        // Starting a pass again in the middle of one moves to the next epoch.
        _ = try loader.batch([0, 1, 2])
        let restarted = try loader.batch([0, 1, 2])
        let order4 = loader.order(epoch: 4)
        #expect(restarted.x == source.batch([order4[0], order4[1], order4[2]], epoch: 4).x)
    }
}
