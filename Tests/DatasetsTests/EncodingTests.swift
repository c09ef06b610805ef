import Foundation
import Testing

@testable import Datasets

@Suite("PNG encoding")
struct EncodingTests {
    /// Decoding with libpng gives back the exact pixels, for both channel counts and odd sizes.
    @Test("PNG round trip is exact", arguments: [(1, 7, 5), (3, 4, 9), (3, 1, 1)])
    func roundTrip(channels: Int, width: Int, height: Int) throws {
        let pixels = (0..<(width * height * channels)).map { UInt8(($0 * 37 + 11) % 256) }
        let image = Image(width: width, height: height, channels: channels, pixels: pixels)
        for level in [0, 6, 9] {
            let decoded = try Image(encoded: image.pngData(compressionLevel: level))
            #expect(decoded == image)
        }
    }

    /// The file starts with the PNG signature and an IHDR chunk naming the size and colour type.
    @Test("PNG header fields")
    func header() {
        let data = [UInt8](Image(width: 300, height: 2, channels: 3, pixels: [UInt8](repeating: 9, count: 1800)).pngData())
        #expect(Array(data[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(Array(data[8..<16]) == [0, 0, 0, 13] + Array("IHDR".utf8))
        #expect(Array(data[16..<29]) == [0, 0, 1, 44, 0, 0, 0, 2, 8, 2, 0, 0, 0])
        #expect(Array(data.suffix(12)) == [0, 0, 0, 0] + Array("IEND".utf8) + [0xAE, 0x42, 0x60, 0x82])
    }
}
