import Foundation
import Tensor
import TestSupport
import Testing

/// Creation functions and the seeded generator, compared with NumPy 2.4.6 and a plain-Python
/// xoshiro256** (Tests/ReferenceScripts/tensor_fixtures.py, tensor.json).
@Suite("Creation and random numbers")
struct CreationTests {
    let fixture: ReferenceFixture

    init() throws {
        fixture = try ReferenceFixture.load("tensor.json", from: .module)
    }

    @Test func rangesAndIdentityMatchNumPy() throws {
        let c = try fixture.case("creation")
        #expect(Tensor<Double>.arange(0, 5, step: 0.5) == (try c.tensor("arange_0_5_0p5")))
        #expect(Tensor<Double>.arange(3, -2, step: -1.5) == (try c.tensor("arange_3_m2_m1p5")))
        #expect(maxRelativeDifference(Tensor<Double>.linspace(-1, 1, count: 9), try c.tensor("linspace_m1_1_9")) < 1e-15)
        #expect(Tensor<Double>.identity(4) == (try c.tensor("identity_4")))
        #expect(Tensor<Float>.zeros([2, 3]).scalars == [Float](repeating: 0, count: 6))
        #expect(Tensor<Float>.full([2], 7).scalars == [7, 7])
        #expect(Tensor<Float>.ones([3]).scalars == [1, 1, 1])
    }

    @Test func generatorMatchesTheReferenceSequence() throws {
        let c = try fixture.case("generator_seed42")
        var g = SeededGenerator(seed: 42)
        let high: Tensor<Double> = try c.tensor("high32"), low: Tensor<Double> = try c.tensor("low32")
        for i in 0..<8 {
            let v = g.next()
            #expect(Double(v >> 32) == high.scalars[i] && Double(v & 0xFFFF_FFFF) == low.scalars[i], "draw \(i)")
        }
        var gd = SeededGenerator(seed: 42), gf = SeededGenerator(seed: 42)
        let unitDouble: Tensor<Double> = try c.tensor("unit_double"), unitFloat: Tensor<Double> = try c.tensor("unit_float")
        for i in 0..<8 {
            #expect(gd.nextUnitDouble() == unitDouble.scalars[i])
            #expect(Double(gf.nextUnitFloat()) == unitFloat.scalars[i])
        }
        var gn = SeededGenerator(seed: 7)
        let normals: Tensor<Double> = try fixture.case("normal_seed7").tensor("values")
        for i in 0..<4 {
            #expect(abs(gn.nextStandardNormal() - normals.scalars[i]) < 1e-15)
        }
    }

    @Test func seededTensorsAreReproducibleAndInRange() {
        let a = Tensor<Float>.uniform([1000], lower: -2, upper: 3, seed: 9)
        #expect(a == Tensor<Float>.uniform([1000], lower: -2, upper: 3, seed: 9))
        #expect(a != Tensor<Float>.uniform([1000], lower: -2, upper: 3, seed: 10))
        #expect(a.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        let n = Tensor<Double>.normal([20000], mean: 1, standardDeviation: 2, seed: 5)
        // Mean within 4 standard errors (2 / sqrt(20000) = 0.014), standard deviation within 2%.
        #expect(abs(n.mean().scalar - 1) < 0.06)
        #expect(abs(n.variance().scalar.squareRoot() - 2) < 0.04)
    }

    @Test func shuffleAndIndexAreUniformAndDeterministic() {
        var g = SeededGenerator(seed: 3)
        var counts = [Int](repeating: 0, count: 5)
        for _ in 0..<50000 { counts[g.nextIndex(below: 5)] += 1 }
        // Each bucket expects 10,000 (standard deviation about 89).
        #expect(counts.allSatisfy { abs($0 - 10000) < 500 }, "\(counts)")
        var a = Array(0..<10), b = Array(0..<10)
        var g1 = SeededGenerator(seed: 1), g2 = SeededGenerator(seed: 1)
        g1.shuffle(&a); g2.shuffle(&b)
        #expect(a == b && a.sorted() == Array(0..<10) && a != Array(0..<10))
    }
}
