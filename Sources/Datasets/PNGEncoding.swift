import CZlib
import Foundation

extension Image {
    /// The image encoded as an 8-bit PNG file (grayscale or RGB, no interlacing, every row with
    /// filter type 0), its pixel data deflated by zlib at `compressionLevel` (0 stores, 9 is
    /// smallest; 6 is zlib's default). ``init(encoded:path:)`` decodes it back to the same pixels.
    public func pngData(compressionLevel: Int = 6) -> Data {
        precondition((0...9).contains(compressionLevel), "Image.pngData: compressionLevel must be in 0...9, got \(compressionLevel)")
        let rowBytes = width * channels
        var raw = [UInt8](repeating: 0, count: height * (rowBytes + 1))
        for y in 0..<height {
            raw.replaceSubrange((y * (rowBytes + 1) + 1)..<((y + 1) * (rowBytes + 1)), with: pixels[(y * rowBytes)..<((y + 1) * rowBytes)])
        }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compress2(&compressed, &compressedSize, raw, uLong(raw.count), Int32(compressionLevel))
        // With a buffer of compressBound bytes zlib can only fail by running out of memory.
        precondition(status == Z_OK, "Image.pngData: zlib compress2 failed with status \(status)")

        func bigEndian(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let typed = Array(type.utf8) + body
            let crc = typed.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
            return bigEndian(UInt32(body.count)) + typed + bigEndian(crc)
        }
        // IHDR: width, height, bit depth 8, colour type 0 (gray) or 2 (RGB), deflate, filter 0, no interlace.
        let header = bigEndian(UInt32(width)) + bigEndian(UInt32(height)) + [8, channels == 1 ? 0 : 2, 0, 0, 0]
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        return Data(signature + chunk("IHDR", header) + chunk("IDAT", Array(compressed.prefix(Int(compressedSize)))) + chunk("IEND", []))
    }
}
