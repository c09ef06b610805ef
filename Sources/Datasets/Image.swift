import CImageCodecs
import Foundation

/// An 8-bit image in memory: `height` rows of `width` pixels of `channels` interleaved samples
/// (1 = grayscale, 3 = RGB), row-major (HWC), as decoded from a file.
public struct Image: Sendable, Equatable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// Samples per pixel: 1 or 3.
    public let channels: Int
    /// `height * width * channels` samples, row-major, channels interleaved.
    public var pixels: [UInt8]

    /// An image of the given size over `pixels` (`height * width * channels` samples).
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && (channels == 1 || channels == 3),
                     "Image: invalid size \(width)x\(height)x\(channels)")
        precondition(pixels.count == width * height * channels,
                     "Image: \(pixels.count) samples do not fill [\(height), \(width), \(channels)]")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Decodes a JPEG or PNG file (recognized by its first bytes, not its name). Throws
    /// ``DatasetError`` naming `url` when the file cannot be read, is corrupt, truncated, or is not
    /// a JPEG or PNG image.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw DatasetError.unreadableFile(path: url.path, message: "\(error.localizedDescription)")
        }
        try self.init(encoded: data, path: url.path)
    }

    /// Decodes JPEG or PNG bytes; `path` names the source in errors.
    public init(encoded data: Data, path: String = "<memory>") throws {
        let bytes = [UInt8](data)
        let isJPEG = bytes.count >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF
        let isPNG = bytes.count >= 8 && bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        guard isJPEG || isPNG else {
            throw DatasetError.corruptImage(path: path, message: bytes.isEmpty ? "the file is empty" : "not a JPEG or PNG file")
        }
        var decoded = cic_image()
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { buffer in
            message.withUnsafeMutableBufferPointer { text in
                isJPEG
                    ? cic_decode_jpeg(buffer.baseAddress, buffer.count, &decoded, text.baseAddress, text.count)
                    : cic_decode_png(buffer.baseAddress, buffer.count, &decoded, text.baseAddress, text.count)
            }
        }
        let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let format = isJPEG ? "JPEG" : "PNG"
        switch Int32(status) {
        case Int32(CIC_OK):
            defer { cic_free(&decoded) }
            let count = Int(decoded.width) * Int(decoded.height) * Int(decoded.channels)
            let pixels = [UInt8](UnsafeBufferPointer(start: decoded.pixels, count: count))
            self.init(width: Int(decoded.width), height: Int(decoded.height), channels: Int(decoded.channels), pixels: pixels)
        case Int32(CIC_ERROR_UNSUPPORTED):
            throw DatasetError.unsupported(path: path, message: "\(format): \(text)")
        default:
            throw DatasetError.corruptImage(path: path, message: "\(format): \(text)")
        }
    }

    /// This image with `channels` samples per pixel: grayscale to RGB by replication, RGB to
    /// grayscale by ITU-R 601-2 luminance `L = R * 299/1000 + G * 587/1000 + B * 114/1000`, rounded
    /// as Pillow's `convert("L")` does.
    public func converted(toChannels target: Int) -> Image {
        precondition(target == 1 || target == 3, "Image.converted: channels must be 1 or 3, got \(target)")
        if target == channels { return self }
        let n = width * height
        var out = [UInt8](repeating: 0, count: n * target)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                if target == 3 {
                    for i in 0..<n {
                        let v = src[i]
                        dst[3 * i] = v; dst[3 * i + 1] = v; dst[3 * i + 2] = v
                    }
                } else {
                    // Pillow's fixed-point luminance: (R*19595 + G*38470 + B*7471 + 0x8000) >> 16.
                    for i in 0..<n {
                        let r = UInt32(src[3 * i]), g = UInt32(src[3 * i + 1]), b = UInt32(src[3 * i + 2])
                        dst[i] = UInt8((r &* 19595 &+ g &* 38470 &+ b &* 7471 &+ 0x8000) >> 16)
                    }
                }
            }
        }
        return Image(width: width, height: height, channels: target, pixels: out)
    }
}
