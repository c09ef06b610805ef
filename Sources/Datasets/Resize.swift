import Foundation

/// How an image is resampled to the target size.
public enum ResizeMethod: String, Codable, Sendable, CaseIterable {
    /// Bilinear interpolation with half-pixel centers (TensorFlow's `resize(method="bilinear")`
    /// without antialiasing, which Keras's `image_dataset_from_directory` uses).
    case bilinear
    /// Area averaging: each output pixel is the mean of the source area it covers, weighted by
    /// overlap (TensorFlow's `"area"`, Pillow's `BOX` filter). Right for strong downscaling.
    case area
    /// Area averaging when shrinking by a factor of 2 or more along either axis, bilinear otherwise.
    case automatic
}

/// How the aspect ratio is handled when resizing.
public enum AspectMode: String, Codable, Sendable, CaseIterable {
    /// Stretch the whole image to the target size (Keras's default).
    case squash
    /// Crop the largest centered region with the target aspect ratio, then resize (Keras's
    /// `crop_to_aspect_ratio=True`, same crop box arithmetic).
    case centerCrop
}

/// Separable resampling weights for one axis: each output index reads `taps` consecutive source
/// indices from `starts[i]` with weights `weights[i * taps ..< (i + 1) * taps]`.
struct ResampleAxis {
    var starts: [Int]
    var weights: [Float]
    var taps: Int

    /// Weights mapping the source range `offset ..< offset + length` onto `output` samples.
    init(method: ResizeMethod, offset: Int, length: Int, output: Int) {
        let scale = Double(length) / Double(output)
        switch method {
        case .bilinear, .automatic:
            taps = 2
            starts = [Int](repeating: 0, count: output)
            weights = [Float](repeating: 0, count: 2 * output)
            for i in 0..<output {
                let x = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(length - 1))
                let lower = min(Int(x.rounded(.down)), max(length - 2, 0))
                let frac = length == 1 ? 0 : x - Double(lower)
                starts[i] = offset + lower
                weights[2 * i] = Float(1 - frac)
                weights[2 * i + 1] = length == 1 ? 0 : Float(frac)
            }
        case .area:
            taps = Int(scale.rounded(.up)) + 1
            starts = [Int](repeating: 0, count: output)
            weights = [Float](repeating: 0, count: taps * output)
            for i in 0..<output {
                let lo = Double(i) * scale, hi = Double(i + 1) * scale
                let first = min(Int(lo.rounded(.down)), length - 1)
                let start = min(first, length - taps >= 0 ? length - taps : 0)
                starts[i] = offset + start
                for t in 0..<taps {
                    let j = start + t
                    guard j < length else { break }
                    let overlap = min(hi, Double(j + 1)) - max(lo, Double(j))
                    if overlap > 0 { weights[i * taps + t] = Float(overlap / scale) }
                }
            }
        }
    }
}

/// Resizing of 8-bit images to float pixels.
public enum Resize {
    /// The crop box `(x, y, width, height)` of `mode` for a `sourceWidth x sourceHeight` image and a
    /// `width x height` target (the whole image for ``AspectMode/squash``).
    public static func cropBox(sourceWidth: Int, sourceHeight: Int, width: Int, height: Int, mode: AspectMode) -> (x: Int, y: Int, width: Int, height: Int) {
        guard mode == .centerCrop else { return (0, 0, sourceWidth, sourceHeight) }
        let cropHeight = max(min(sourceHeight, Int(Double(sourceWidth * height) / Double(width))), 1)
        let cropWidth = max(min(sourceWidth, Int(Double(sourceHeight * width) / Double(height))), 1)
        return (Int(Double(sourceWidth - cropWidth) / 2), Int(Double(sourceHeight - cropHeight) / 2), cropWidth, cropHeight)
    }

    /// `image` resized to `width x height`, as `height * width * channels` floats in `[0, 255]`
    /// (not rounded). Separable: a horizontal pass, then a vertical pass over whole rows.
    public static func resize(_ image: Image, width: Int, height: Int, method: ResizeMethod = .bilinear, aspect: AspectMode = .squash) -> [Float] {
        precondition(width > 0 && height > 0, "Resize: target size \(width)x\(height) must be positive")
        let box = cropBox(sourceWidth: image.width, sourceHeight: image.height, width: width, height: height, mode: aspect)
        let resolved: ResizeMethod = method != .automatic ? method
            : (box.width >= 2 * width || box.height >= 2 * height) ? .area : .bilinear
        let ax = ResampleAxis(method: resolved, offset: box.x, length: box.width, output: width)
        let ay = ResampleAxis(method: resolved, offset: box.y, length: box.height, output: height)
        let c = image.channels
        let rowIn = image.width * c, rowOut = width * c
        // Horizontal pass over the rows the vertical pass needs (the crop box rows).
        var horizontal = [Float](repeating: 0, count: box.height * rowOut)
        image.pixels.withUnsafeBufferPointer { src in
            horizontal.withUnsafeMutableBufferPointer { dst in
                ax.weights.withUnsafeBufferPointer { w in
                    for y in 0..<box.height {
                        let srcRow = src.baseAddress! + (box.y + y) * rowIn
                        let dstRow = dst.baseAddress! + y * rowOut
                        for x in 0..<width {
                            let start = ax.starts[x] * c
                            for ch in 0..<c {
                                var sum: Float = 0
                                for t in 0..<ax.taps {
                                    let j = start + t * c + ch
                                    let wt = w[x * ax.taps + t]
                                    if wt != 0 { sum += wt * Float(srcRow[j]) }
                                }
                                dstRow[x * c + ch] = sum
                            }
                        }
                    }
                }
            }
        }
        // Vertical pass: each output row is a weighted sum of whole intermediate rows.
        var out = [Float](repeating: 0, count: height * rowOut)
        horizontal.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<height {
                    let dstRow = dst.baseAddress! + y * rowOut
                    for t in 0..<ay.taps {
                        let wt = ay.weights[y * ay.taps + t]
                        if wt == 0 { continue }
                        let srcRow = src.baseAddress! + (ay.starts[y] - box.y + t) * rowOut
                        for i in 0..<rowOut { dstRow[i] += wt * srcRow[i] }
                    }
                }
            }
        }
        return out
    }

    /// `image` resized and rounded to 8 bits (round half up, clamped to `0...255`).
    public static func resizedImage(_ image: Image, width: Int, height: Int, method: ResizeMethod = .bilinear, aspect: AspectMode = .squash) -> Image {
        if image.width == width && image.height == height { return image }
        let values = resize(image, width: width, height: height, method: method, aspect: aspect)
        let pixels = values.map { UInt8(min(max($0 + 0.5, 0), 255)) }
        return Image(width: width, height: height, channels: image.channels, pixels: pixels)
    }
}
