import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import PneumoniaWeb

/// What the browser test reads off the rendered page.
struct RenderedResult: Sendable {
    var label: String
    var probability: String
    var error: String
    var heatmapWidth: Int
    var opacityAfterSlider: String
}

@Suite("Browser")
struct BrowserTests {
    /// Serves the page on loopback, opens it in headless Chromium, uploads an image through the
    /// file input (DevTools `DOM.setFileInputFiles`, as a user choosing a file), and checks the
    /// rendered class, probability and heatmap against the service's own answer for that file.
    /// The screenshot goes to `.build/test-output/browser-test.png` (or `$PNEUMONIA_WEB_SCREENSHOT`).
    ///
    /// By default it uses a tiny random-weight checkpoint and a generated image;
    /// `PNEUMONIA_WEB_CHECKPOINT` and `PNEUMONIA_WEB_IMAGE` substitute a trained checkpoint and a real
    /// X-ray (how the README's screenshot is made).
    @Test(
        "the page classifies an uploaded image in headless Chromium",
        .enabled(if: Chromium.executable != nil, "chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"),
        .timeLimit(.minutes(5)))
    func upload() async throws {
        let environment = ProcessInfo.processInfo.environment
        let checkpoint = environment["PNEUMONIA_WEB_CHECKPOINT"].map { URL(fileURLWithPath: $0) } ?? Fixtures.checkpoint
        let image: URL
        if let path = environment["PNEUMONIA_WEB_IMAGE"] {
            image = URL(fileURLWithPath: path)
        } else {
            image = Fixtures.folder.appendingPathComponent("upload.png")
            try Fixtures.png(width: 240, height: 200, cx: 0.35, cy: 0.55).write(to: image)
        }
        let screenshot = environment["PNEUMONIA_WEB_SCREENSHOT"].map { URL(fileURLWithPath: $0) }
            ?? Fixtures.packageRoot.appendingPathComponent(".build/test-output/browser-test.png")
        try FileManager.default.createDirectory(at: screenshot.deletingLastPathComponent(), withIntermediateDirectories: true)

        let service = try PneumoniaService(checkpoint: checkpoint, replicas: 1)
        let expected = try await service.predict(imageBytes: try Data(contentsOf: image))
        let app = buildApplication(service: service, configuration: WebAppConfiguration(host: "127.0.0.1", port: 0))
        let executable = try #require(Chromium.executable)
        let profile = Fixtures.folder.appendingPathComponent("chromium-profile-\(UUID().uuidString)")
        let log = Fixtures.folder.appendingPathComponent("chromium.log")

        let rendered = try await app.test(.live) { client in
            let port = try #require(client.port)
            // The DevTools exchange blocks, so it runs on its own thread, not on the concurrency pool
            // that the server's request handlers use.
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<RenderedResult, any Error>) in
                Thread {
                    continuation.resume(with: Result {
                        let browser = try Chromium(executable: executable, profile: profile, log: log, width: 1000, height: 840)
                        defer { browser.quit() }
                        try browser.openPage(width: 1000, height: 840)
                        try browser.send("Page.navigate", ["url": "http://127.0.0.1:\(port)/"])
                        try browser.wait(for: "document.getElementById('model-info').textContent.startsWith('Model ')", timeout: 30)
                        try browser.setFiles("#file", [image.path])
                        try browser.wait(for: "!document.getElementById('result').hidden || !document.getElementById('error').hidden", timeout: 120)
                        try browser.wait(for: "document.getElementById('heatmap').complete && document.getElementById('preview').complete", timeout: 10)
                        try browser.screenshot().write(to: screenshot)
                        func text(_ id: String) throws -> String {
                            try browser.evaluate("document.getElementById('\(id)').textContent") as? String ?? ""
                        }
                        let slider = """
                            (() => { const s = document.getElementById('opacity'); s.value = 80; s.dispatchEvent(new Event('input'));
                                     return getComputedStyle(document.getElementById('heatmap')).opacity; })()
                            """
                        return RenderedResult(
                            label: try text("result-label"), probability: try text("probability"), error: try text("error"),
                            heatmapWidth: try browser.evaluate("document.getElementById('heatmap').naturalWidth") as? Int ?? -1,
                            opacityAfterSlider: try browser.evaluate(slider) as? String ?? "")
                    })
                }.start()
            }
        }
        print("browser test: \(rendered.label) \(rendered.probability); screenshot at \(screenshot.path)")
        #expect(rendered.error == "")
        #expect(rendered.label == expected.label)
        let shown = try #require(Double(rendered.probability.dropLast()), "probability text '\(rendered.probability)'")
        #expect(rendered.probability.hasSuffix("%") && abs(shown - 100 * expected.probability) <= 0.051)
        #expect(rendered.heatmapWidth == service.info.imageSize)
        #expect(rendered.opacityAfterSlider == "0.8")
        #expect(try Data(contentsOf: screenshot).starts(with: [0x89, 0x50, 0x4E, 0x47]))
    }
}
