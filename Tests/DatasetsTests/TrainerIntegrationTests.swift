import Foundation
import Testing
import Training

@testable import Datasets

@Suite("Training from image folders")
struct TrainerIntegrationTests {
    func run(_ data: ImageDataset) throws -> (losses: [Double], epoch: Int) {
        let model = try Sequential<Float>(inputShape: [8, 8, 1], seed: 3) {
            Flatten()
            Dense(1, activation: .sigmoid)
        }
        let trainer = Trainer(model: model, loss: .binaryCrossEntropy(), optimizer: Adam<Float>(learningRate: 0.01),
                              seed: 4, progress: ProgressReporter(style: .silent))
        let source = ImageBatchSource<Float>(data, augmentation: Augmentation(rotationRange: 10, zoomRange: 0.1, horizontalFlip: true), seed: 9)
        let loader = PrefetchingLoader(source, batchSize: 3, shuffleSeed: 1)
        let history = try trainer.fit(loader, epochs: 3, batchSize: 3, validation: ImageBatchSource<Float>(data), shuffle: false)
        return (history["loss"], loader.epoch)
    }

    @Test("Trainer.fit reads prefetched augmented batches; two runs give the same losses")
    func fitFromLoader() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try makeFolder(root, [
            ("NORMAL", "images/gray.jpeg", "IM-0001-0001.jpeg"), ("NORMAL", "images/gray.png", "IM-0002-0001.png"),
            ("NORMAL", "images/progressive.jpeg", "IM-0003-0001.jpeg"), ("PNEUMONIA", "images/rgb.png", "person1_virus_1.png"),
            ("PNEUMONIA", "images/rgb420.jpeg", "person2_bacteria_2.jpeg"), ("PNEUMONIA", "images/palette.png", "person3_virus_3.png"),
            ("PNEUMONIA", "images/rgb444.jpg", "person4_bacteria_4.jpg"),
        ])
        let data = try ImageDataset.load(try ImageFolder(root: root), preprocessing: ImagePreprocessing(width: 8, height: 8, channels: 1))
        let first = try run(data), second = try run(data)
        #expect(first.losses.count == 3 && first.losses.allSatisfy(\.isFinite))
        #expect(first.epoch == 3)  // the trainer asked for consecutive blocks: every pass went through the queue
        #expect(first.losses == second.losses)
    }
}
