import DeepLearning
import Foundation
import Hummingbird
import HummingbirdTesting
import PneumoniaModels
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@testable import PneumoniaWeb

/// JSON of an error answer: `{"error": {"message": "..."}}`.
struct ErrorBody: Decodable {
    struct Message: Decodable { let message: String }
    let error: Message
}

func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    try JSONDecoder().decode(T.self, from: Data(response.body.readableBytesView))
}

@Suite("Routes")
struct RouteTests {
    static func app(maxUploadBytes: Int = 10 * 1024 * 1024) throws -> some ApplicationProtocol {
        buildApplication(service: try Fixtures.service(),
                         configuration: WebAppConfiguration(host: "127.0.0.1", port: 0, maxUploadBytes: maxUploadBytes))
    }

    @Test("GET / serves the page, its script and style, with no external URL")
    func page() async throws {
        try await Self.app().test(.router) { client in
            for (path, type, marker) in [("/", "text/html", "id=\"file\""), ("/index.html", "text/html", "app.js"),
                                         ("/app.js", "text/javascript", "api/predict"), ("/style.css", "text/css", "#heatmap")] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.contentType]?.hasPrefix(type) == true)
                    let text = String(buffer: response.body)
                    #expect(text.contains(marker))
                    #expect(!text.contains("http://") && !text.contains("https://"), "\(path) must work offline")
                }
            }
        }
    }

    @Test("GET /api/health names the model and its input")
    func health() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/api/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json; charset=utf-8")
                let health = try decode(HealthStatus.self, response)
                #expect(health == HealthStatus(status: "ok", model: "cnn", imageSize: 32, channels: 1,
                                               classNames: ["NORMAL", "PNEUMONIA"], threshold: 0.5))
            }
        }
    }

    /// A PNG and a JPEG: the probability is the library's own prediction for the file, the label
    /// follows the threshold, and the heatmap is a 32x32 RGB PNG data URL.
    @Test("POST /api/predict classifies PNG and JPEG uploads")
    func predict() async throws {
        let uploads = [Fixtures.png(), try Fixtures.jpeg]
        try await Self.app().test(.router) { client in
            for bytes in uploads {
                try await client.execute(uri: "/api/predict", method: .post, body: ByteBuffer(bytes: bytes)) { response in
                    #expect(response.status == .ok)
                    let prediction = try decode(Prediction.self, response)
                    #expect(abs(prediction.probability - (try Fixtures.referenceProbability(bytes))) < 1e-6)
                    #expect(prediction.label == (prediction.probability >= 0.5 ? "PNEUMONIA" : "NORMAL"))
                    #expect(prediction.threshold == 0.5 && prediction.model == "cnn" && prediction.heatmapLayer == "conv2d_1")
                    let prefix = "data:image/png;base64,", url = try #require(prediction.heatmap)
                    #expect(url.hasPrefix(prefix))
                    let png = try #require(Data(base64Encoded: String(url.dropFirst(prefix.count))))
                    let heatmap = try Image(encoded: png)
                    #expect(heatmap.width == 32 && heatmap.height == 32 && heatmap.channels == 3)
                }
            }
        }
    }

    /// Empty, non-image, corrupt and truncated uploads get 400 with a JSON message; the server
    /// then still answers.
    @Test("bad uploads get 400 with a JSON error")
    func badUploads() async throws {
        let png = Fixtures.png()
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "empty upload"),
            ("text", Array("hello, not an image".utf8), "not a JPEG or PNG"),
            ("truncated PNG", Array(png.prefix(60)), "PNG"),
            ("corrupt PNG", Array(png.prefix(40)) + [UInt8](repeating: 0xAB, count: 200), "PNG"),
            ("corrupt JPEG", [0xFF, 0xD8, 0xFF, 0xE0] + [UInt8](repeating: 7, count: 100), "JPEG"),
            // A 48x40 PNG whose header claims 100000x100000 pixels: refused before decoding.
            ("decompression bomb", Array(png.prefix(16)) + [0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0] + Array(png.dropFirst(24)),
             "image of 100000x100000 pixels, over the limit of 50000000 pixels"),
        ]
        try await Self.app().test(.router) { client in
            for (name, bytes, message) in cases {
                try await client.execute(uri: "/api/predict", method: .post, body: ByteBuffer(bytes: bytes)) { response in
                    #expect(response.status == .badRequest, "\(name)")
                    let body = try decode(ErrorBody.self, response)
                    #expect(body.error.message.contains(message), "\(name): \(body.error.message)")
                }
            }
            try await client.execute(uri: "/api/health", method: .get) { #expect($0.status == .ok) }
        }
    }

    /// Over the limit: 413 whether the size is announced (Content-Length, live server) or not.
    @Test("uploads over the limit get 413", arguments: [TestingSetup.router, .live])
    func tooLarge(setup: TestingSetup) async throws {
        let png = Fixtures.png()
        try await Self.app(maxUploadBytes: png.count - 1).test(setup) { client in
            try await client.execute(uri: "/api/predict", method: .post, body: ByteBuffer(bytes: png)) { response in
                #expect(response.status == .contentTooLarge)
                let body = try decode(ErrorBody.self, response)
                #expect(body.error.message == "upload over the limit of \(png.count - 1) bytes")
            }
        }
        try await Self.app(maxUploadBytes: png.count).test(setup) { client in
            try await client.execute(uri: "/api/predict", method: .post, body: ByteBuffer(bytes: png)) { #expect($0.status == .ok) }
        }
    }

    @Test("unknown routes get 404 with a JSON error", arguments: ["/nope", "/api/predict/extra", "/api"])
    func notFound(path: String) async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .notFound)
                let body = try decode(ErrorBody.self, response)
                #expect(body.error.message == "not found: no route GET \(path)")
            }
        }
    }

    /// Twelve requests at once on a live server (several connections), with two model replicas:
    /// each answer equals the library's own prediction for its image.
    @Test("concurrent requests get their own answers")
    func concurrent() async throws {
        let images = (0..<12).map { Fixtures.png(cx: 0.2 + 0.05 * Double($0), cy: 0.5, seed: $0) }
        let expected = try images.map { try Fixtures.referenceProbability($0) }
        try await Self.app().test(.live) { client in
            let port = try #require(client.port)
            let probabilities = try await withThrowingTaskGroup(of: (Int, Double).self) { group in
                for (i, image) in images.enumerated() {
                    group.addTask {
                        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/predict")!)
                        request.httpMethod = "POST"
                        let (data, response) = try await URLSession.shared.upload(for: request, from: image)
                        #expect((response as? HTTPURLResponse)?.statusCode == 200)
                        return (i, try JSONDecoder().decode(Prediction.self, from: data).probability)
                    }
                }
                var result = [Double](repeating: .nan, count: images.count)
                for try await (i, p) in group { result[i] = p }
                return result
            }
            for (p, e) in zip(probabilities, expected) { #expect(abs(p - e) < 1e-6) }
            #expect(Set(expected.map { ($0 * 1e6).rounded() }).count > 1, "the images should give different probabilities")
        }
    }

    /// The pool directly: 16 concurrent predictions with at most 3 replicas give the sequential answers.
    @Test("the model pool lends each replica to one task at a time")
    func pool() async throws {
        let service = try Fixtures.service(replicas: 3)
        let images = (0..<16).map { Fixtures.png(cx: 0.1 + 0.05 * Double($0), cy: 0.4, seed: $0) }
        var sequential: [Prediction] = []
        for image in images { sequential.append(try await service.predict(imageBytes: image)) }
        let concurrent = try await withThrowingTaskGroup(of: (Int, Prediction).self) { group in
            for (i, image) in images.enumerated() { group.addTask { (i, try await service.predict(imageBytes: image)) } }
            var result = sequential
            for try await (i, p) in group { result[i] = p }
            return result
        }
        #expect(concurrent == sequential)
        #expect(await service.pool.replicaCount <= 3)
    }

    /// The declared size of PNG and JPEG files equals the decoded size.
    @Test("image header dimensions")
    func headerDimensions() throws {
        for bytes in [Fixtures.png(width: 48, height: 40), try Fixtures.jpeg] {
            let image = try Image(encoded: bytes)
            let size = try #require(ImageHeader.dimensions([UInt8](bytes)))
            #expect(size.width == image.width && size.height == image.height)
        }
        #expect(ImageHeader.dimensions(Array("GIF89a".utf8)) == nil)
        #expect(ImageHeader.dimensions([0xFF, 0xD8, 0xFF, 0xE0, 0x00]) == nil)
    }

    /// A model without convolutions (the seed `dense`) is served without a heatmap.
    @Test("a dense model gets probabilities without heatmaps")
    func denseModel() async throws {
        let info = CheckpointInfo(model: .dense, imageSize: 16, channels: 1, classNames: binaryClassNames, threshold: 0.3, seed: 2)
        let url = Fixtures.folder.appendingPathComponent("dense.safetensors")
        try info.model.build(imageSize: 16, channels: 1, seed: 2).saveWeights(to: url, metadata: info.metadata)
        let service = try PneumoniaService(checkpoint: url, replicas: 1)
        let bytes = Fixtures.png()
        let prediction = try await service.predict(imageBytes: bytes)
        let loaded = try LoadedCheckpoint(url: url)
        let expected = Double(try loaded.model.predict(try info.inputBatch([try Image(encoded: bytes)])).scalars[0])
        #expect(prediction.heatmap == nil && prediction.heatmapLayer == nil)
        #expect(abs(prediction.probability - expected) < 1e-7 && prediction.threshold == 0.3 && prediction.model == "dense")
    }

    @Test("a missing or foreign checkpoint is a one-line error")
    func badCheckpoint() throws {
        let missing = Fixtures.folder.appendingPathComponent("missing.safetensors")
        #expect(throws: PneumoniaError.self) { try PneumoniaService(checkpoint: missing) }
        let foreign = Fixtures.folder.appendingPathComponent("foreign.safetensors")
        try Data("not a checkpoint".utf8).write(to: foreign)
        #expect(throws: PneumoniaError.self) { try PneumoniaService(checkpoint: foreign) }
        let threeClasses = Fixtures.folder.appendingPathComponent("cause.safetensors")
        let info = CheckpointInfo(model: .cnn, imageSize: 32, channels: 1, classNames: ["NORMAL", "BACTERIA", "VIRUS"], threshold: 0.5, seed: 1)
        try info.model.build(imageSize: 32, channels: 1, seed: 1, classCount: 3).saveWeights(to: threeClasses, metadata: info.metadata)
        #expect(throws: PneumoniaError.self) { try PneumoniaService(checkpoint: threeClasses) }
    }
}
