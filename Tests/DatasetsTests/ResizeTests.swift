import Foundation
import Testing

@testable import Datasets

@Suite("Resizing against NumPy and Pillow references")
struct ResizeTests {
    static let source = try! Image(contentsOf: Fixtures.url("images/resize_source.png"))
    static let sourceRGB = try! Image(contentsOf: Fixtures.url("images/resize_source_rgb.png"))

    @Test("Bilinear with half-pixel centers (down and up)", arguments: [(15, 20), (50, 70), (7, 9)])
    func bilinear(size: (Int, Int)) throws {
        let out = Resize.resize(Self.source, width: size.1, height: size.0, method: .bilinear)
        let expected = try Fixtures.doubles("bilinear_\(size.0)x\(size.1)", "out")
        #expect(maxAbsDifference(out.map(Double.init), expected) < 1e-3)
    }

    @Test("Area averaging by exact overlap (TensorFlow's area method), also when enlarging", arguments: [(15, 20), (50, 70), (7, 9)])
    func area(size: (Int, Int)) throws {
        let out = Resize.resize(Self.source, width: size.1, height: size.0, method: .area)
        let name = "area_\(size.0)x\(size.1)"
        #expect(maxAbsDifference(out.map(Double.init), try Fixtures.doubles(name, "out")) < 1e-3)
    }

    @Test("RGB images resize per channel")
    func rgb() throws {
        let b = Resize.resize(Self.sourceRGB, width: 13, height: 9, method: .bilinear)
        #expect(maxAbsDifference(b.map(Double.init), try Fixtures.doubles("bilinear_rgb_9x13", "out")) < 1e-3)
        let a = Resize.resize(Self.sourceRGB, width: 7, height: 5, method: .area)
        #expect(maxAbsDifference(a.map(Double.init), try Fixtures.doubles("area_rgb_5x7", "out")) < 1e-3)
    }

    @Test("Center crop uses Keras's crop box, then resizes")
    func centerCrop() throws {
        let c = try Fixtures.reference.case("crop_bilinear_10x10")
        let box = Resize.cropBox(sourceWidth: 53, sourceHeight: 37, width: 10, height: 10, mode: .centerCrop)
        let (x, y, w, h) = (try c.int("x"), try c.int("y"), try c.int("w"), try c.int("h"))
        #expect(box.x == x && box.y == y && box.width == w && box.height == h)
        let out = Resize.resize(Self.source, width: 10, height: 10, method: .bilinear, aspect: .centerCrop)
        #expect(maxAbsDifference(out.map(Double.init), try Fixtures.doubles("crop_bilinear_10x10", "out")) < 1e-3)
    }

    @Test("Automatic picks area averaging for a 2x or stronger shrink, bilinear otherwise")
    func automatic() {
        #expect(Resize.resize(Self.source, width: 20, height: 15, method: .automatic) == Resize.resize(Self.source, width: 20, height: 15, method: .area))
        #expect(Resize.resize(Self.source, width: 40, height: 30, method: .automatic) == Resize.resize(Self.source, width: 40, height: 30, method: .bilinear))
    }

    @Test("A constant image stays constant under every method")
    func constant() {
        let image = Image(width: 31, height: 17, channels: 1, pixels: [UInt8](repeating: 77, count: 31 * 17))
        for method in ResizeMethod.allCases {
            #expect(Resize.resize(image, width: 8, height: 11, method: method).allSatisfy { abs($0 - 77) < 1e-3 })
        }
    }
}
