import Foundation
import Testing

@testable import Datasets

@Suite("Decoding against Pillow")
struct DecodingTests {
    @Test("PNG decoding is exact (gray, RGB, palette)", arguments: ["gray.png", "rgb.png", "palette.png"])
    func png(name: String) throws {
        let image = try Image(contentsOf: Fixtures.url("images/\(name)"))
        let key = name.replacingOccurrences(of: ".", with: "_")
        let c = try Fixtures.reference.case(key)
        let (h, w, ch) = (try c.int("height"), try c.int("width"), try c.int("channels"))
        #expect(image.height == h && image.width == w && image.channels == ch)
        #expect(image.pixels.map(Double.init) == (try Fixtures.doubles(key, "pixels")))
    }

    /// libjpeg-turbo 2.1.5 (system) against Pillow's bundled libjpeg-turbo 3.1.3: both decode with
    /// the accurate integer IDCT and fancy upsampling, and agree exactly.
    @Test("JPEG decoding equals Pillow's exactly", arguments: ["gray.jpeg", "rgb420.jpeg", "rgb444.jpg", "progressive.jpeg"])
    func jpeg(name: String) throws {
        let image = try Image(contentsOf: Fixtures.url("images/\(name)"))
        let key = name.replacingOccurrences(of: ".", with: "_")
        let expected = try Fixtures.doubles(key, "pixels")
        let channels = try Fixtures.reference.case(key).int("channels")
        #expect(image.channels == channels)
        #expect(maxAbsDifference(image.pixels.map(Double.init), expected) == 0)
    }

    @Test("RGB to grayscale matches Pillow's convert(\"L\"); grayscale to RGB replicates")
    func channelConversion() throws {
        let rgb = try Fixtures.reference.case("luminance").tensor("rgb", as: Double.self)
        let image = Image(width: rgb.shape[1], height: rgb.shape[0], channels: 3, pixels: rgb.scalars.map { UInt8($0) })
        #expect(image.converted(toChannels: 1).pixels.map(Double.init) == (try Fixtures.doubles("luminance", "gray")))
        let gray = Image(width: 2, height: 1, channels: 1, pixels: [7, 200])
        #expect(gray.converted(toChannels: 3).pixels == [7, 7, 7, 200, 200, 200])
    }

    @Test("Corrupt, truncated, empty and non-image files throw errors naming the file",
          arguments: ["truncated.jpeg", "garbled.jpeg", "notes.jpeg", "empty.png", "truncated.png"])
    func corrupt(name: String) throws {
        let url = Fixtures.url("corrupt/\(name)")
        do {
            _ = try Image(contentsOf: url)
            Issue.record("\(name) decoded without an error")
        } catch let error as DatasetError {
            guard case .corruptImage(let path, let message) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == url.path)
            #expect(error.description.contains(name))
            #expect(!message.isEmpty)
        }
    }

    @Test("A missing file is an unreadable-file error naming it")
    func missingFile() {
        let url = Fixtures.url("images/absent.jpeg")
        #expect(throws: DatasetError.self) { try Image(contentsOf: url) }
        do { _ = try Image(contentsOf: url) } catch { #expect("\(error)".contains("absent.jpeg")) }
    }
}
