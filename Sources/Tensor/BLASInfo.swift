import CKernels
import COpenBLAS
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What OpenBLAS runs on, and the kernel family it should run on.
///
/// OpenBLAS built with `DYNAMIC_ARCH` (Debian's and Ubuntu's packages) picks its kernels when it
/// is loaded, from the CPU it recognises. Versions before 0.3.22 do not recognise some AVX-512
/// CPUs (AMD Zen 4, recent Xeons under some hypervisors) and fall back to AVX2 `Haswell` or even
/// SSE3 `Prescott` kernels, leaving most of the sgemm speed unused (one such machine: 44-49
/// GFLOP/s against 247-260 with the `SkylakeX` kernels at 1024^3). Before the first BLAS or
/// LAPACK call of the process, this library therefore checks OpenBLAS's choice once and, when the
/// CPU has the AVX-512 subsets of the `SkylakeX` kernels but OpenBLAS chose kernels without
/// AVX-512, switches OpenBLAS to `SkylakeX` in the running process (``kernelSelection``).
/// Setting `OPENBLAS_CORETYPE` yourself, or `DEEPLEARNING_KEEP_BLAS_CORE=1`, keeps OpenBLAS's
/// own choice.
public enum BLASInfo {
    /// How the kernel family was settled for this process.
    public struct KernelSelection: Sendable, Equatable {
        /// The family OpenBLAS chose by itself when it loaded.
        public let chosenByOpenBLAS: String
        /// The family in use after the check, for example `SkylakeX`.
        public let inUse: String
        /// Whether this library switched OpenBLAS from its own choice to ``inUse``.
        public var switched: Bool { chosenByOpenBLAS != inUse }
    }

    /// The check described above, done once, before the first BLAS or LAPACK call of the
    /// process (every call in this module goes through ``prepare()``).
    public static let kernelSelection: KernelSelection = {
        let own = String(cString: openblas_get_corename())
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["DEEPLEARNING_KEEP_BLAS_CORE"] == nil,
              let core = recommendedCoreType(coreName: own, cpuFlags: cpuFlags),
              ck_openblas_select_core(core) == 1
        else { return KernelSelection(chosenByOpenBLAS: own, inUse: own) }
        return KernelSelection(chosenByOpenBLAS: own, inUse: String(cString: openblas_get_corename()))
    }()

    /// Settles ``kernelSelection`` if that has not happened yet; cheap afterwards. Called before
    /// every BLAS and LAPACK call.
    @inline(__always)
    public static func prepare() {
        _ = kernelSelection
    }

    /// The kernel family OpenBLAS runs, for example `Haswell`, `SkylakeX` or `Zen` (after ``prepare()``).
    public static var coreName: String {
        prepare()
        return String(cString: openblas_get_corename())
    }

    /// OpenBLAS's build configuration, for example `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The CPU feature flags of the first processor in `/proc/cpuinfo` (empty where it is unreadable).
    public static var cpuFlags: Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// The AVX-512 subsets OpenBLAS's `SkylakeX` kernels use.
    static let skylakeXFlags: Set<String> = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]

    /// OpenBLAS kernel families that already use AVX-512.
    static let avx512CoreNames: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// `SkylakeX` when `cpuFlags` has the AVX-512 subsets of OpenBLAS's SkylakeX kernels but
    /// `coreName` is a family without AVX-512; nil when that choice should stand.
    public static func recommendedCoreType(coreName: String, cpuFlags: Set<String>) -> String? {
        guard skylakeXFlags.isSubset(of: cpuFlags), !avx512CoreNames.contains(coreName.lowercased()) else { return nil }
        return "SkylakeX"
    }
}
