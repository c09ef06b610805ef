import Foundation
import Tensor
import Testing

@testable import Datasets

@Suite("Augmentation")
struct AugmentationTests {
    func transform(_ input: [Double], shape: [Int], _ p: Augmentation.Parameters, fill: FillMode = .nearest) -> [Double] {
        let floats = input.map(Float.init)
        var out = [Float](repeating: 0, count: floats.count)
        floats.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Augmentation.apply(p, fill: fill, pixels: src.baseAddress!, height: shape[0], width: shape[1], channels: shape[2], output: dst.baseAddress!)
            }
        }
        return out.map(Double.init)
    }

    @Test("Rotation, shift and zoom match Keras's apply_affine_transform (SciPy, order 1, nearest fill)",
          arguments: ["affine_rotate", "affine_shift", "affine_zoom", "affine_combined", "affine_rgb"])
    func affine(name: String) throws {
        let c = try Fixtures.reference.case(name)
        let input = try c.tensor("input", as: Double.self)
        let p = Augmentation.Parameters(theta: c.params["theta"]!, tx: c.params["tx"]!, ty: c.params["ty"]!, zx: c.params["zx"]!, zy: c.params["zy"]!)
        let out = transform(input.scalars, shape: input.shape, p)
        #expect(maxAbsDifference(out, try c.tensor("out", as: Double.self).scalars) < 1e-3)
    }

    @Test("Flip mirrors columns; brightness scales and clips; constant fill outside the image")
    func flipBrightnessFill() {
        let input: [Double] = [1, 2, 3, 4, 5, 6]  // 2 x 3 x 1
        #expect(transform(input, shape: [2, 3, 1], .init(flip: true)) == [3, 2, 1, 6, 5, 4])
        #expect(transform([100, 200], shape: [1, 2, 1], .init(brightness: 1.5)) == [150, 255])
        #expect(transform([10, 30], shape: [1, 2, 1], .init(contrast: 2)) == [0, 40])
        // A shift by a whole image width leaves only fill.
        #expect(transform(input, shape: [2, 3, 1], .init(ty: 3), fill: .constant(9)) == [9, 9, 9, 9, 9, 9])
        #expect(transform(input, shape: [2, 3, 1], .init(ty: 3), fill: .nearest) == [3, 3, 3, 6, 6, 6])
    }

    @Test("Random draws stay within Keras's ranges and are fixed by the seed")
    func ranges() {
        let aug = Augmentation(rotationRange: 10, widthShiftRange: 0.1, heightShiftRange: 0.2, zoomRange: 0.2, horizontalFlip: true,
                               brightnessRange: 0.8...1.2)
        var g = SeededGenerator(seed: 3)
        var flips = 0
        for _ in 0..<2000 {
            let p = aug.randomParameters(height: 50, width: 40, using: &g)
            #expect(abs(p.theta) <= 10 && abs(p.tx) <= 0.2 * 50 && abs(p.ty) <= 0.1 * 40)
            #expect(p.zx >= 0.8 && p.zx <= 1.2 && p.zy >= 0.8 && p.zy <= 1.2 && p.brightness >= 0.8 && p.brightness <= 1.2)
            if p.flip { flips += 1 }
        }
        #expect(flips > 900 && flips < 1100)
        var a = SeededGenerator(seed: 9), b = SeededGenerator(seed: 9)
        #expect(aug.randomParameters(height: 8, width: 8, using: &a) == aug.randomParameters(height: 8, width: 8, using: &b))
    }

    @Test("Augmented images are deterministic per seed, differ across seeds, and stay within the input's range")
    func determinismAndBounds() throws {
        let image = try Image(contentsOf: Fixtures.url("images/resize_source.png"))
        let aug = Augmentation(rotationRange: 15, widthShiftRange: 0.1, heightShiftRange: 0.1, zoomRange: 0.2, horizontalFlip: true)
        let first = aug.apply(to: image, seed: 42)
        #expect(first == aug.apply(to: image, seed: 42))
        #expect(first != aug.apply(to: image, seed: 43))
        let lo = Float(image.pixels.min()!), hi = Float(image.pixels.max()!)
        for seed in 0..<20 as Range<UInt64> {
            #expect(aug.apply(to: image, seed: seed).allSatisfy { $0 >= lo - 1e-3 && $0 <= hi + 1e-3 })
        }
        #expect(Augmentation().apply(to: image, seed: 1) == image.pixels.map(Float.init))
    }
}
