import Foundation
import Tensor

/// How points that fall outside the image are filled by a transform.
public enum FillMode: Codable, Sendable, Equatable {
    /// The nearest edge pixel (Keras `ImageDataGenerator`'s default `fill_mode="nearest"`).
    case nearest
    /// A constant value on the 0...255 scale (Keras `fill_mode="constant"`, `cval`).
    case constant(Float)
}

/// Random training-time augmentation with the ranges of Keras's `ImageDataGenerator`: rotation,
/// width/height shift, zoom, horizontal flip, brightness, plus contrast. Each image's random draw
/// comes from its own seed (fixed by the data source's seed, the sample and the epoch), so results
/// do not depend on thread timing or batch composition.
public struct Augmentation: Codable, Sendable, Equatable {
    /// Degrees; the angle is uniform in `[-rotationRange, rotationRange]` (`rotation_range`).
    public var rotationRange: Double
    /// Fraction of the width; the horizontal shift is uniform in `±widthShiftRange * width` (`width_shift_range`).
    public var widthShiftRange: Double
    /// Fraction of the height (`height_shift_range`).
    public var heightShiftRange: Double
    /// Zoom factors `zx`, `zy` drawn independently, uniform in `[lower, upper]` (`zoom_range=z` is
    /// `[1 - z, 1 + z]`); a factor above 1 shows more of the image (zooms out), as in Keras.
    public var zoomRange: [Double]
    /// Mirror left-right with probability 1/2 (`horizontal_flip`).
    public var horizontalFlip: Bool
    /// Multiply the pixels by a factor uniform in this range (`brightness_range`), clipped to 0...255.
    public var brightnessRange: [Double]?
    /// Scale each channel's deviation from its mean by a factor uniform in this range (TensorFlow's
    /// `adjust_contrast`), clipped to 0...255.
    public var contrastRange: [Double]?
    /// Fill for points outside the image.
    public var fillMode: FillMode

    /// An augmentation with Keras `ImageDataGenerator` argument semantics; `zoomRange: 0.2` means `[0.8, 1.2]`.
    public init(rotationRange: Double = 0, widthShiftRange: Double = 0, heightShiftRange: Double = 0, zoomRange: Double = 0,
                horizontalFlip: Bool = false, brightnessRange: ClosedRange<Double>? = nil, contrastRange: ClosedRange<Double>? = nil,
                fillMode: FillMode = .nearest) {
        self.init(rotationRange: rotationRange, widthShiftRange: widthShiftRange, heightShiftRange: heightShiftRange,
                  zoomRange: (1 - zoomRange)...(1 + zoomRange), horizontalFlip: horizontalFlip,
                  brightnessRange: brightnessRange, contrastRange: contrastRange, fillMode: fillMode)
    }

    /// An augmentation with an explicit zoom interval (Keras `zoom_range=[lower, upper]`).
    public init(rotationRange: Double = 0, widthShiftRange: Double = 0, heightShiftRange: Double = 0, zoomRange: ClosedRange<Double>,
                horizontalFlip: Bool = false, brightnessRange: ClosedRange<Double>? = nil, contrastRange: ClosedRange<Double>? = nil,
                fillMode: FillMode = .nearest) {
        precondition(rotationRange >= 0 && widthShiftRange >= 0 && heightShiftRange >= 0 && zoomRange.lowerBound > 0,
                     "Augmentation: ranges must be non-negative and zoom positive")
        self.rotationRange = rotationRange
        self.widthShiftRange = widthShiftRange
        self.heightShiftRange = heightShiftRange
        self.zoomRange = [zoomRange.lowerBound, zoomRange.upperBound]
        self.horizontalFlip = horizontalFlip
        self.brightnessRange = brightnessRange.map { [$0.lowerBound, $0.upperBound] }
        self.contrastRange = contrastRange.map { [$0.lowerBound, $0.upperBound] }
        self.fillMode = fillMode
    }

    /// One random draw of the transform.
    public struct Parameters: Sendable, Equatable {
        /// Rotation in degrees.
        public var theta: Double = 0
        /// Shift along rows (vertical), in pixels (Keras's `tx`).
        public var tx: Double = 0
        /// Shift along columns (horizontal), in pixels (Keras's `ty`).
        public var ty: Double = 0
        /// Zoom along rows.
        public var zx: Double = 1
        /// Zoom along columns.
        public var zy: Double = 1
        /// Mirror left-right.
        public var flip = false
        /// Brightness factor.
        public var brightness: Double = 1
        /// Contrast factor.
        public var contrast: Double = 1

        /// The identity transform.
        public init(theta: Double = 0, tx: Double = 0, ty: Double = 0, zx: Double = 1, zy: Double = 1, flip: Bool = false,
                    brightness: Double = 1, contrast: Double = 1) {
            self.theta = theta; self.tx = tx; self.ty = ty; self.zx = zx; self.zy = zy
            self.flip = flip; self.brightness = brightness; self.contrast = contrast
        }
    }

    /// Draws parameters for an image of `height x width`.
    public func randomParameters(height: Int, width: Int, using generator: inout SeededGenerator) -> Parameters {
        func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * generator.nextUnitDouble() }
        var p = Parameters()
        if rotationRange > 0 { p.theta = uniform(-rotationRange, rotationRange) }
        if heightShiftRange > 0 { p.tx = uniform(-heightShiftRange, heightShiftRange) * Double(height) }
        if widthShiftRange > 0 { p.ty = uniform(-widthShiftRange, widthShiftRange) * Double(width) }
        if zoomRange[0] != 1 || zoomRange[1] != 1 {
            p.zx = uniform(zoomRange[0], zoomRange[1])
            p.zy = uniform(zoomRange[0], zoomRange[1])
        }
        if horizontalFlip { p.flip = generator.nextUnitDouble() < 0.5 }
        if let b = brightnessRange { p.brightness = uniform(b[0], b[1]) }
        if let c = contrastRange { p.contrast = uniform(c[0], c[1]) }
        return p
    }

    /// `pixels` (`height * width * channels` values on 0...255) transformed by `p` into `output`:
    /// the affine map of Keras's `apply_affine_transform` (rotation, shift, zoom about the image
    /// center `(h/2 - 0.5, w/2 - 0.5)`; output pixel `(r, c)` reads the input at `A (r, c) + b`),
    /// sampled bilinearly (SciPy `affine_transform` with `order=1`), then the flip, brightness and
    /// contrast.
    public static func apply(_ p: Parameters, fill: FillMode, pixels: UnsafePointer<Float>, height: Int, width: Int, channels: Int,
                             output: UnsafeMutablePointer<Float>) {
        let t = p.theta * Double.pi / 180
        let (cs, sn) = (cos(t), sin(t))
        // A = R * Z (the shift only moves the offset): R = [[c, -s], [s, c]], Z = diag(zx, zy).
        let a00 = cs * p.zx, a01 = -sn * p.zy, a10 = sn * p.zx, a11 = cs * p.zy
        // Full map: x_in = A (x_out - o) + R shift + o.
        let ox = Double(height) / 2 - 0.5, oy = Double(width) / 2 - 0.5
        let sx = cs * p.tx - sn * p.ty, sy = sn * p.tx + cs * p.ty
        let b0 = ox + sx - (a00 * ox + a01 * oy), b1 = oy + sy - (a10 * ox + a11 * oy)
        let maxR = Float(height - 1), maxC = Float(width - 1)
        let identity = p.theta == 0 && p.tx == 0 && p.ty == 0 && p.zx == 1 && p.zy == 1
        if identity {
            output.update(from: pixels, count: height * width * channels)
        } else {
            for r in 0..<height {
                for c in 0..<width {
                    let fr = Float(a00 * Double(r) + a01 * Double(c) + b0)
                    let fc = Float(a10 * Double(r) + a11 * Double(c) + b1)
                    let dst = output + (r * width + c) * channels
                    if case let .constant(value) = fill, fr < -1e-4 || fc < -1e-4 || fr > maxR + 1e-4 || fc > maxC + 1e-4 {
                        for ch in 0..<channels { dst[ch] = value }
                        continue
                    }
                    let cr = min(max(fr, 0), maxR), cc = min(max(fc, 0), maxC)
                    let r0 = min(Int(cr), max(height - 2, 0)), c0 = min(Int(cc), max(width - 2, 0))
                    let r1 = min(r0 + 1, height - 1), c1 = min(c0 + 1, width - 1)
                    let wr = cr - Float(r0), wc = cc - Float(c0)
                    let p00 = pixels + (r0 * width + c0) * channels, p01 = pixels + (r0 * width + c1) * channels
                    let p10 = pixels + (r1 * width + c0) * channels, p11 = pixels + (r1 * width + c1) * channels
                    for ch in 0..<channels {
                        let top = p00[ch] + wc * (p01[ch] - p00[ch])
                        let bottom = p10[ch] + wc * (p11[ch] - p10[ch])
                        dst[ch] = top + wr * (bottom - top)
                    }
                }
            }
        }
        if p.flip {
            for r in 0..<height {
                let row = output + r * width * channels
                for c in 0..<(width / 2) {
                    for ch in 0..<channels {
                        let i = c * channels + ch, j = (width - 1 - c) * channels + ch
                        let v = row[i]; row[i] = row[j]; row[j] = v
                    }
                }
            }
        }
        let n = height * width * channels
        if p.brightness != 1 {
            let f = Float(p.brightness)
            for i in 0..<n { output[i] = min(max(output[i] * f, 0), 255) }
        }
        if p.contrast != 1 {
            let f = Float(p.contrast)
            for ch in 0..<channels {
                var sum: Double = 0
                for i in stride(from: ch, to: n, by: channels) { sum += Double(output[i]) }
                let mean = Float(sum / Double(n / channels))
                for i in stride(from: ch, to: n, by: channels) { output[i] = min(max((output[i] - mean) * f + mean, 0), 255) }
            }
        }
    }

    /// `image` augmented with the draw of `seed`, as `height * width * channels` floats on 0...255.
    public func apply(to image: Image, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        let p = randomParameters(height: image.height, width: image.width, using: &generator)
        let input = image.pixels.map(Float.init)
        var out = [Float](repeating: 0, count: input.count)
        input.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Self.apply(p, fill: fillMode, pixels: src.baseAddress!, height: image.height, width: image.width,
                           channels: image.channels, output: dst.baseAddress!)
            }
        }
        return out
    }
}
