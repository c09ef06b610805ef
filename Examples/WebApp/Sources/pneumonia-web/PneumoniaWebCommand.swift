import ArgumentParser
import Foundation
import Hummingbird
import PneumoniaWeb

/// `pneumonia-web`: serves the classification page and API for a `pneumonia` checkpoint.
@main
struct PneumoniaWebCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pneumonia-web",
        abstract: "Serve a web page and an HTTP API that classify chest X-rays with a `pneumonia train` checkpoint, with Grad-CAM heatmaps.")

    @Option(help: "A checkpoint written by `pneumonia train` (checkpoint.safetensors).")
    var checkpoint: String

    @Option(help: "The address to listen on (0.0.0.0 for every interface).")
    var host: String = "127.0.0.1"

    @Option(help: "The TCP port.")
    var port: Int = 8080

    @Option(help: "Largest accepted upload in bytes (larger ones get 413).")
    var maxUploadBytes: Int = 10 * 1024 * 1024

    @Option(help: "Model copies serving concurrent requests (default: the number of processors).")
    var replicas: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        guard maxUploadBytes > 0 else { throw ValidationError("--max-upload-bytes must be positive, got \(maxUploadBytes)") }
        guard replicas > 0 else { throw ValidationError("--replicas must be positive, got \(replicas)") }
    }

    func run() async throws {
        let service = try PneumoniaService(checkpoint: URL(fileURLWithPath: checkpoint), replicas: replicas)
        let health = service.health
        // Unbuffered, so the line shows at once even when stdout is a file or a pipe.
        FileHandle.standardOutput.write(Data("""
            model \(health.model) (\(health.imageSize)x\(health.imageSize)x\(health.channels), threshold \(health.threshold)); \
            open http://\(host):\(port)/

            """.utf8))
        let app = buildApplication(
            service: service, configuration: WebAppConfiguration(host: host, port: port, maxUploadBytes: maxUploadBytes))
        try await app.runService()
    }
}
