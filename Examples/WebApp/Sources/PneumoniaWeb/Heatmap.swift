import DeepLearning
import Foundation

/// Rendering of a Grad-CAM map as a colour image for overlaying on the X-ray.
public enum Heatmap {
    /// The map (`height * width` values in [0, 1], row-major) upsampled bilinearly to
    /// `outputWidth x outputHeight`, as 8-bit intensities.
    public static func upsampled(_ map: [Float], width: Int, height: Int, outputWidth: Int, outputHeight: Int) -> Image {
        precondition(map.count == width * height, "Heatmap: \(map.count) values do not fill \(height)x\(width)")
        let gray = Image(width: width, height: height, channels: 1,
                         pixels: map.map { UInt8((min(max($0, 0), 1) * 255).rounded()) })
        return Resize.resizedImage(gray, width: outputWidth, height: outputHeight, method: .bilinear, aspect: .squash)
    }

    /// The "jet" colour of `t` in [0, 1] (blue, cyan, yellow, red), as in matplotlib's and
    /// OpenCV's `COLORMAP_JET` Grad-CAM overlays.
    public static func jet(_ t: Float) -> (UInt8, UInt8, UInt8) {
        let v = min(max(t, 0), 1)
        func channel(_ offset: Float) -> UInt8 {
            UInt8((min(max(1.5 - abs(4 * v - offset), 0), 1) * 255).rounded())
        }
        return (channel(3), channel(2), channel(1))
    }

    /// An 8-bit grayscale intensity image coloured with ``jet(_:)``.
    public static func colored(_ intensities: Image) -> Image {
        precondition(intensities.channels == 1, "Heatmap.colored: expected a grayscale image")
        var rgb = [UInt8](repeating: 0, count: intensities.width * intensities.height * 3)
        for (i, value) in intensities.pixels.enumerated() {
            let (r, g, b) = jet(Float(value) / 255)
            rgb[3 * i] = r; rgb[3 * i + 1] = g; rgb[3 * i + 2] = b
        }
        return Image(width: intensities.width, height: intensities.height, channels: 3, pixels: rgb)
    }

    /// The map as a coloured PNG of `size x size` pixels, in a `data:image/png;base64,` URL.
    public static func pngDataURL(_ map: [Float], width: Int, height: Int, size: Int) -> String {
        let image = colored(upsampled(map, width: width, height: height, outputWidth: size, outputHeight: size))
        return "data:image/png;base64," + image.pngData().base64EncodedString()
    }
}
