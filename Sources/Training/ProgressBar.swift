import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reports training progress the way Keras does: on a terminal, a live bar per epoch with the step
/// count, elapsed and remaining time and the running metrics; when the output is not a terminal
/// (a log file, CI), one plain line per epoch.
public final class ProgressReporter {
    /// How progress is shown.
    public enum Style: Sendable {
        /// A live bar, redrawn in place (Keras `verbose=1`).
        case bar
        /// One line at the end of each epoch (Keras `verbose=2`).
        case linePerEpoch
        /// Nothing.
        case silent
    }

    /// The style in use.
    public let style: Style
    private let write: (String) -> Void
    private var epochStart = Date()
    private var lastDraw = Date.distantPast
    private var totalSteps = 0
    private let width = 20

    /// A reporter with `style`; `.bar` is used only when standard output is a terminal
    /// (`automatic` picks `.bar` on a terminal and `.linePerEpoch` otherwise).
    public init(style: Style, write: @escaping (String) -> Void = { FileHandle.standardOutput.write(Data($0.utf8)) }) {
        self.style = style
        self.write = write
    }

    /// `.bar` on a terminal, `.linePerEpoch` otherwise.
    public static func automatic() -> ProgressReporter {
        ProgressReporter(style: isatty(STDOUT_FILENO) != 0 ? .bar : .linePerEpoch)
    }

    /// Announces an epoch (`Epoch 3/30`) of `steps` batches.
    public func beginEpoch(_ epoch: Int, of epochs: Int, steps: Int) {
        epochStart = Date()
        lastDraw = .distantPast
        totalSteps = steps
        if style != .silent { write("Epoch \(epoch)/\(epochs)\n") }
    }

    /// Updates the bar after `step` of the epoch's batches (redrawn at most 10 times a second).
    public func update(step: Int, logs: [(String, Double)]) {
        guard style == .bar else { return }
        let now = Date()
        if step < totalSteps && now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        write("\r" + barLine(step: step, logs: logs, final: false) + "\u{1B}[K")
    }

    /// Ends the epoch with its final logs (training and validation).
    public func endEpoch(logs: [(String, Double)]) {
        switch style {
        case .silent: return
        case .bar: write("\r" + barLine(step: totalSteps, logs: logs, final: true) + "\u{1B}[K\n")
        case .linePerEpoch: write(barLine(step: totalSteps, logs: logs, final: true) + "\n")
        }
    }

    /// Prints a free-form line (callbacks' messages such as early stopping).
    public func message(_ text: String) {
        if style != .silent { write(text + "\n") }
    }

    func barLine(step: Int, logs: [(String, Double)], final: Bool) -> String {
        let elapsed = Date().timeIntervalSince(epochStart)
        let steps = max(totalSteps, 1)
        let filled = min(width, step * width / steps)
        let bar = String(repeating: "━", count: filled) + String(repeating: "─", count: width - filled)
        let perStep = step > 0 ? elapsed / Double(step) : 0
        var time: String
        if final {
            time = "\(Self.duration(elapsed)) \(Self.perStep(perStep))"
        } else {
            time = "\(Self.duration(elapsed)) / ETA \(Self.duration(perStep * Double(steps - step)))"
        }
        if style == .linePerEpoch { time = "\(Self.duration(elapsed)) \(Self.perStep(perStep))" }
        let metrics = logs.map { " - \($0.0): \(Self.metric($0.1))" }.joined()
        let counter = "\(String(repeating: " ", count: max(0, String(steps).count - String(step).count)))\(step)/\(steps)"
        return "\(counter) \(bar) \(time)\(metrics)"
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 { return "\(Int(seconds.rounded()))s" }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%d:%02d", s / 60, s % 60) }
        return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }

    static func perStep(_ seconds: Double) -> String {
        seconds >= 1 ? String(format: "%.0fs/step", seconds) : String(format: "%.0fms/step", seconds * 1000)
    }

    static func metric(_ v: Double) -> String {
        if v != 0 && abs(v) < 1e-3 { return String(format: "%.4e", v) }
        return String(format: "%.4f", v)
    }
}
