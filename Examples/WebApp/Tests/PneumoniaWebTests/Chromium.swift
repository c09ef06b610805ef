import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A headless Chromium driven through the DevTools protocol over `--remote-debugging-pipe`
/// (JSON messages separated by NUL bytes on file descriptors 3 and 4), so no WebSocket client is
/// needed. Used by the browser test only.
final class Chromium {
    /// The browser executable: `$CHROMIUM` if set, else the first of `chromium`,
    /// `chromium-browser`, `google-chrome` found on `PATH`; `nil` when none is installed.
    static let executable: String? = {
        let fm = FileManager.default
        if let path = ProcessInfo.processInfo.environment["CHROMIUM"], fm.isExecutableFile(atPath: path) { return path }
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in folders where fm.isExecutableFile(atPath: "\(folder)/\(name)") { return "\(folder)/\(name)" }
        }
        return nil
    }()

    struct Failure: Error, CustomStringConvertible { let description: String }

    private let pid: pid_t
    private let input: Int32   // we write commands here (the browser's fd 3)
    private let output: Int32  // we read answers and events here (the browser's fd 4)
    private var buffer: [UInt8] = []
    private var nextID = 0
    /// The page session commands go to, once ``openPage()`` has run.
    private var session: String?

    /// Starts the browser with a fresh profile in `profile`; its own messages go to `log`.
    init(executable: String, profile: URL, log: URL, width: Int, height: Int) throws {
        var toBrowser: [Int32] = [0, 0], fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw Failure(description: "pipe failed: errno \(errno)") }
        // Copies above 10 so that the dup2 calls to 3 and 4 below cannot overwrite each other.
        let childIn = fcntl(toBrowser[0], F_DUPFD, 10), childOut = fcntl(fromBrowser[1], F_DUPFD, 10)
        close(toBrowser[0]); close(fromBrowser[1])
        input = toBrowser[1]
        output = fromBrowser[0]
        _ = fcntl(input, F_SETFD, FD_CLOEXEC)
        _ = fcntl(output, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, childIn, 3)
        posix_spawn_file_actions_adddup2(&actions, childOut, 4)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = [
            executable, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--remote-debugging-pipe",
            "--user-data-dir=\(profile.path)", "--window-size=\(width),\(height)", "about:blank",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, &argv, environ)
        close(childIn); close(childOut)
        guard status == 0 else { throw Failure(description: "cannot start \(executable): posix_spawn error \(status)") }
        pid = child
    }

    deinit {
        close(input); close(output)
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
    }

    /// Sends a command and waits (up to `timeout` seconds) for its answer's `result`; events that
    /// arrive meanwhile are dropped.
    @discardableResult
    func send(_ method: String, _ params: [String: Any] = [:], browserLevel: Bool = false, timeout: Double = 30) throws -> [String: Any] {
        nextID += 1
        let id = nextID
        var message: [String: Any] = ["id": id, "method": method, "params": params]
        if !browserLevel, let session { message["sessionId"] = session }
        var bytes = [UInt8](try JSONSerialization.data(withJSONObject: message))
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(input, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "\(method): writing to the browser failed (errno \(errno))") }
            written += n
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let reply = try receive(until: deadline, waitingFor: method)
            guard reply["id"] as? Int == id else { continue }
            if let error = reply["error"] { throw Failure(description: "\(method) failed: \(error)") }
            return reply["result"] as? [String: Any] ?? [:]
        }
    }

    private func receive(until deadline: Date, waitingFor method: String) throws -> [String: Any] {
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                return try JSONSerialization.jsonObject(with: Data(message)) as? [String: Any] ?? [:]
            }
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "\(method): no answer from the browser in time") }
            var descriptor = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, Int32(min(remaining, 1) * 1000)) >= 0 else { throw Failure(description: "poll failed") }
            if descriptor.revents == 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let n = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "\(method): the browser closed its pipe (see its log)") }
            buffer += chunk[..<n]
        }
    }

    /// Opens a new tab and directs later commands to it.
    func openPage(width: Int, height: Int) throws {
        let target = try send("Target.createTarget", ["url": "about:blank"], browserLevel: true)
        guard let targetId = target["targetId"] as? String else { throw Failure(description: "no targetId in \(target)") }
        let attached = try send("Target.attachToTarget", ["targetId": targetId, "flatten": true], browserLevel: true)
        session = attached["sessionId"] as? String
        guard session != nil else { throw Failure(description: "no sessionId in \(attached)") }
        try send("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
    }

    /// The value of a JavaScript expression in the page (JSON-compatible values only).
    func evaluate(_ expression: String) throws -> Any? {
        let result = try send("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] { throw Failure(description: "\(expression) threw \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    /// Evaluates `expression` every 100 ms until it is `true`, for up to `timeout` seconds (an
    /// expression that throws, for example while the page is still loading, counts as false).
    func wait(for expression: String, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = "false"
        while Date() < deadline {
            do {
                if try evaluate(expression) as? Bool == true { return }
            } catch let failure as Failure {
                last = failure.description
            }
            usleep(100_000)
        }
        throw Failure(description: "timed out after \(timeout) s waiting for \(expression) (last: \(last))")
    }

    /// Sets the files of the `<input type=file>` matched by `selector`, as a user choosing them would
    /// (the page gets its `change` event).
    func setFiles(_ selector: String, _ paths: [String]) throws {
        let document = try send("DOM.getDocument", ["depth": 0])
        guard let root = (document["root"] as? [String: Any])?["nodeId"] as? Int else { throw Failure(description: "no document") }
        let node = try send("DOM.querySelector", ["nodeId": root, "selector": selector])
        guard let nodeId = node["nodeId"] as? Int, nodeId != 0 else { throw Failure(description: "no element \(selector)") }
        try send("DOM.setFileInputFiles", ["files": paths, "nodeId": nodeId])
    }

    /// A PNG screenshot of the viewport.
    func screenshot() throws -> Data {
        let shot = try send("Page.captureScreenshot", ["format": "png"])
        guard let text = shot["data"] as? String, let data = Data(base64Encoded: text) else { throw Failure(description: "no screenshot data") }
        return data
    }

    /// Asks the browser to quit (the deinit kills it if it has not).
    func quit() { _ = try? send("Browser.close", browserLevel: true, timeout: 5) }
}
