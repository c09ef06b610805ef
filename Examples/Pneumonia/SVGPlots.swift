import Foundation

/// Small, dependency-free SVG charts for the reports `pneumonia train` and `evaluate` write:
/// training curves, the ROC curve with its operating point, and the confusion matrix.
enum SVGPlot {
    /// One line of a chart.
    struct Series {
        /// The legend label.
        let name: String
        /// The y values, one per x value.
        let values: [Double]
        /// A CSS color.
        let color: String
        /// Whether the line is dashed (validation curves).
        var dashed = false
    }

    static let width = 640.0, height = 400.0
    static let left = 64.0, right = 24.0, top = 40.0, bottom = 56.0

    /// A line chart of `series` against `x`, with axes, ticks, a legend and a title.
    /// `yRange` fixes the y axis (say `0...1` for rates); by default it spans the values.
    static func lineChart(title: String, xLabel: String, yLabel: String, x: [Double], series: [Series], yRange: ClosedRange<Double>? = nil) -> String {
        let finite = series.flatMap(\.values).filter(\.isFinite)
        var yMin = finite.min() ?? 0, yMax = finite.max() ?? 1
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        let pad = (yMax - yMin) * 0.05
        yMin -= pad; yMax += pad
        if let yRange { yMin = yRange.lowerBound; yMax = yRange.upperBound }
        let xMin = x.first ?? 0, xMax = max(x.last ?? 1, xMin + 1)
        var svg = header(title: title)
        svg += axes(xLabel: xLabel, yLabel: yLabel, xRange: (xMin, xMax), yRange: (yMin, yMax), integerX: true)
        // The legend's background, so lines under it do not hide its labels.
        var legend = "<rect x=\"\(fmt(width - right - 158))\" y=\"\(fmt(top + 2))\" width=\"154\" height=\"\(fmt(Double(series.count) * 18 + 6))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#ccc\"/>\n"
        for (i, s) in series.enumerated() {
            let points = zip(x, s.values).filter { $0.1.isFinite }.map { xv, yv in
                "\(fmt(px(xv, xMin, xMax))),\(fmt(py(yv, yMin, yMax)))"
            }
            let dash = s.dashed ? " stroke-dasharray=\"6 4\"" : ""
            svg += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash) points=\"\(points.joined(separator: " "))\"/>\n"
            for p in points {
                let xy = p.split(separator: ",")
                svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(s.color)\"/>\n"
            }
            let ly = top + 14 + Double(i) * 18
            legend += "<line x1=\"\(fmt(width - right - 150))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(width - right - 126))\" y2=\"\(fmt(ly))\" stroke=\"\(s.color)\" stroke-width=\"2\"\(dash)/>\n"
            legend += text(s.name, x: width - right - 120, y: ly + 4, anchor: "start")
        }
        return svg + legend + "</svg>\n"
    }

    /// The ROC curve with the diagonal, the area under it, and the chosen operating point.
    static func rocChart(
        falsePositiveRates: [Double], truePositiveRates: [Double], auc: Double,
        operatingPoint: (falsePositiveRate: Double, truePositiveRate: Double, threshold: Double)?
    ) -> String {
        var svg = header(title: auc.isFinite ? String(format: "ROC curve (AUC %.3f)", auc) : "ROC curve (undefined: one class only)")
        svg += axes(xLabel: "False positive rate (1 - specificity)", yLabel: "True positive rate (sensitivity)",
                    xRange: (0, 1), yRange: (0, 1), integerX: false)
        svg += "<line x1=\"\(fmt(px(0, 0, 1)))\" y1=\"\(fmt(py(0, 0, 1)))\" x2=\"\(fmt(px(1, 0, 1)))\" y2=\"\(fmt(py(1, 0, 1)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n"
        let points = zip(falsePositiveRates, truePositiveRates).map { "\(fmt(px($0, 0, 1))),\(fmt(py($1, 0, 1)))" }
        svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
        if let op = operatingPoint {
            let cx = px(op.falsePositiveRate, 0, 1), cy = py(op.truePositiveRate, 0, 1)
            svg += "<circle cx=\"\(fmt(cx))\" cy=\"\(fmt(cy))\" r=\"5\" fill=\"#d62728\"/>\n"
            let label = String(
                format: "threshold %.3f: sensitivity %.3f, specificity %.3f",
                op.threshold, op.truePositiveRate, 1 - op.falsePositiveRate)
            svg += text(label, x: min(cx + 10, width - right - 4), y: min(cy + 18, height - bottom - 6),
                        anchor: cx > width / 2 ? "end" : "start")
        }
        return svg + "</svg>\n"
    }

    /// A 2x2 (or n x n) confusion matrix: rows are the true class, columns the prediction, cells
    /// shaded by their share of the row, with counts and row percentages.
    static func confusionMatrix(_ counts: [[Int]], classNames: [String]) -> String {
        let n = counts.count
        let size = min(width - left - right, height - top - bottom) - 20
        let cell = size / Double(max(n, 1))
        let x0 = (width - size) / 2 + 20, y0 = top + 10
        var svg = header(title: "Confusion matrix")
        for i in 0..<n {
            let rowTotal = max(1, counts[i].reduce(0, +))
            for j in 0..<n {
                let share = Double(counts[i][j]) / Double(rowTotal)
                let shade = Int(255 - share * 200)
                let fill = "rgb(\(shade),\(shade),255)"
                svg += "<rect x=\"\(fmt(x0 + Double(j) * cell))\" y=\"\(fmt(y0 + Double(i) * cell))\" width=\"\(fmt(cell))\" height=\"\(fmt(cell))\" fill=\"\(fill)\" stroke=\"#333\"/>\n"
                let ink = share > 0.6 ? "white" : "black"
                svg += text("\(counts[i][j])", x: x0 + (Double(j) + 0.5) * cell, y: y0 + (Double(i) + 0.5) * cell, size: 20, color: ink)
                svg += text(String(format: "%.1f%%", share * 100), x: x0 + (Double(j) + 0.5) * cell,
                            y: y0 + (Double(i) + 0.5) * cell + 20, size: 12, color: ink)
            }
            svg += text(classNames[i], x: x0 - 8, y: y0 + (Double(i) + 0.5) * cell, anchor: "end")
            svg += text(classNames[i], x: x0 + (Double(i) + 0.5) * cell, y: y0 + size + 18)
        }
        svg += text("Predicted", x: x0 + size / 2, y: y0 + size + 38)
        svg += "<text x=\"16\" y=\"\(fmt(y0 + size / 2))\" transform=\"rotate(-90 16 \(fmt(y0 + size / 2)))\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"13\">True</text>\n"
        return svg + "</svg>\n"
    }

    /// Charts stacked vertically in one SVG document (each chart keeps its own size).
    static func stacked(_ charts: [String]) -> String {
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height * Double(charts.count)))\" viewBox=\"0 0 \(fmt(width)) \(fmt(height * Double(charts.count)))\">\n"
        for (i, chart) in charts.enumerated() {
            let prefix = "<svg xmlns=\"http://www.w3.org/2000/svg\" "
            precondition(chart.hasPrefix(prefix), "SVGPlot.stacked: not a chart of SVGPlot")
            svg += "<svg y=\"\(fmt(height * Double(i)))\" " + chart.dropFirst(prefix.count)
        }
        return svg + "</svg>\n"
    }

    // MARK: Pieces

    static func header(title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + text(title, x: width / 2, y: 24, size: 16)
    }

    static func axes(xLabel: String, yLabel: String, xRange: (Double, Double), yRange: (Double, Double), integerX: Bool) -> String {
        var svg = "<line x1=\"\(fmt(left))\" y1=\"\(fmt(height - bottom))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(height - bottom))\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(top))\" x2=\"\(fmt(left))\" y2=\"\(fmt(height - bottom))\" stroke=\"black\"/>\n"
        for k in 0...4 {
            let yv = yRange.0 + (yRange.1 - yRange.0) * Double(k) / 4
            let y = py(yv, yRange.0, yRange.1)
            svg += "<line x1=\"\(fmt(left - 4))\" y1=\"\(fmt(y))\" x2=\"\(fmt(width - right))\" y2=\"\(fmt(y))\" stroke=\"#ddd\"/>\n"
            svg += text(String(format: "%.2f", yv), x: left - 8, y: y + 4, anchor: "end", size: 11)
        }
        let xTicks: [Double]
        if integerX {
            let span = Int(xRange.1 - xRange.0)
            let step = max(1, span / 10)
            xTicks = stride(from: Int(xRange.0), through: Int(xRange.1), by: step).map(Double.init)
        } else {
            xTicks = (0...4).map { xRange.0 + (xRange.1 - xRange.0) * Double($0) / 4 }
        }
        for xv in xTicks {
            let x = px(xv, xRange.0, xRange.1)
            svg += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(height - bottom))\" x2=\"\(fmt(x))\" y2=\"\(fmt(height - bottom + 4))\" stroke=\"black\"/>\n"
            svg += text(integerX ? String(Int(xv)) : String(format: "%.2f", xv), x: x, y: height - bottom + 18, size: 11)
        }
        svg += text(xLabel, x: (left + width - right) / 2, y: height - 14)
        let cy = (top + height - bottom) / 2
        svg += "<text x=\"16\" y=\"\(fmt(cy))\" transform=\"rotate(-90 16 \(fmt(cy)))\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"13\">\(escape(yLabel))</text>\n"
        return svg
    }

    static func text(_ s: String, x: Double, y: Double, anchor: String = "middle", size: Int = 13, color: String = "black") -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" font-family=\"sans-serif\" font-size=\"\(size)\" fill=\"\(color)\">\(escape(s))</text>\n"
    }

    static func px(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        left + (v - lo) / (hi - lo) * (width - left - right)
    }

    static func py(_ v: Double, _ lo: Double, _ hi: Double) -> Double {
        height - bottom - (v - lo) / (hi - lo) * (height - top - bottom)
    }

    static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
