import Foundation
import Testing

@testable import Tensor

@Suite("BLAS information")
struct BLASInfoTests {
    let skylakeX: Set<String> = ["sse2", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    @Test("OpenBLAS reports its kernel family and configuration")
    func reportsCore() {
        #expect(!BLASInfo.coreName.isEmpty)
        #expect(BLASInfo.configuration.contains("OpenBLAS"))
    }

    @Test("AVX-512 CPUs on kernels without AVX-512 are steered to SkylakeX; everything else keeps OpenBLAS's choice")
    func recommendation() {
        // AMD Zen 4 under OpenBLAS 0.3.21: AVX-512 present, Haswell (or Zen) kernels chosen.
        #expect(BLASInfo.recommendedCoreType(coreName: "Haswell", cpuFlags: skylakeX) == "SkylakeX")
        #expect(BLASInfo.recommendedCoreType(coreName: "Zen", cpuFlags: skylakeX) == "SkylakeX")
        // Already on AVX-512 kernels.
        #expect(BLASInfo.recommendedCoreType(coreName: "SkylakeX", cpuFlags: skylakeX) == nil)
        #expect(BLASInfo.recommendedCoreType(coreName: "Cooperlake", cpuFlags: skylakeX) == nil)
        #expect(BLASInfo.recommendedCoreType(coreName: "SapphireRapids", cpuFlags: skylakeX) == nil)
        // No AVX-512, or only part of what SkylakeX kernels need (Knights Landing lacks BW/DQ/VL).
        #expect(BLASInfo.recommendedCoreType(coreName: "Haswell", cpuFlags: ["avx2", "fma"]) == nil)
        #expect(BLASInfo.recommendedCoreType(coreName: "Haswell", cpuFlags: ["avx512f", "avx512cd", "avx512er", "avx512pf"]) == nil)
        #expect(BLASInfo.recommendedCoreType(coreName: "Haswell", cpuFlags: []) == nil)
    }

    @Test("Before the first BLAS call the process settles on AVX-512 kernels where the CPU has them, and products stay exact")
    func kernelSelection() {
        let a = Tensor<Float>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor<Float>(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
        #expect(a.matmul(b).scalars == [58, 64, 139, 154])
        let selection = BLASInfo.kernelSelection
        #expect(BLASInfo.coreName == selection.inUse)
        let environment = ProcessInfo.processInfo.environment
        if environment["OPENBLAS_CORETYPE"] == nil, environment["DEEPLEARNING_KEEP_BLAS_CORE"] == nil {
            // Nothing left to recommend: either OpenBLAS's choice stood or the switch took effect.
            #expect(BLASInfo.recommendedCoreType(coreName: selection.inUse, cpuFlags: BLASInfo.cpuFlags) == nil,
                    "OpenBLAS chose \(selection.chosenByOpenBLAS), in use \(selection.inUse)")
        } else {
            #expect(!selection.switched)
        }
    }
}
