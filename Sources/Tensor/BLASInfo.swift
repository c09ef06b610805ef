import COpenBLAS
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What OpenBLAS runs on, and the kernel family it should run on.
///
/// OpenBLAS built with `DYNAMIC_ARCH` (Debian's and Ubuntu's packages) picks its kernels when it
/// is loaded, from the CPU it recognises. Versions before 0.3.22 do not recognise AMD Zen 4 (which
/// has AVX-512) and fall back to the AVX2 `Haswell` kernels, leaving about a third of the sgemm
/// speed unused. The choice can only be made before the library loads, through the environment
/// variable `OPENBLAS_CORETYPE`; ``recommendedCoreType`` says what to set, and
/// ``relaunchWithRecommendedCoreTypeIfNeeded(arguments:)`` lets an executable restart itself with it.
public enum BLASInfo {
    /// The kernel family OpenBLAS chose, for example `Haswell`, `SkylakeX` or `Zen`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

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

    /// `SkylakeX` when the CPU has the AVX-512 subsets of OpenBLAS's SkylakeX kernels but OpenBLAS
    /// chose kernels without AVX-512; nil when OpenBLAS's own choice should stand.
    public static var recommendedCoreType: String? {
        recommendedCoreType(coreName: coreName, cpuFlags: cpuFlags)
    }

    /// ``recommendedCoreType`` for a given kernel family and CPU flag set.
    public static func recommendedCoreType(coreName: String, cpuFlags: Set<String>) -> String? {
        guard skylakeXFlags.isSubset(of: cpuFlags), !avx512CoreNames.contains(coreName.lowercased()) else { return nil }
        return "SkylakeX"
    }

    /// Restarts the running executable with `OPENBLAS_CORETYPE` set to ``recommendedCoreType``
    /// when there is one and the environment sets neither `OPENBLAS_CORETYPE` nor
    /// `DEEPLEARNING_KEEP_BLAS_CORE` (set it to keep OpenBLAS's own choice). Call it first thing in
    /// `main`, before any other work: on success it does not return (the process image is replaced
    /// through `execv` with the same arguments); if the restart fails, it returns and the program
    /// goes on with OpenBLAS's own kernels. Libraries should not call it; executables may.
    public static func relaunchWithRecommendedCoreTypeIfNeeded(arguments: [String] = CommandLine.arguments) {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_CORETYPE"] == nil, environment["DEEPLEARNING_KEEP_BLAS_CORE"] == nil,
              let core = recommendedCoreType
        else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        var cArguments: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &cArguments)
        // Only reached when execv failed: keep running as we are, and do not try again in children.
        unsetenv("OPENBLAS_CORETYPE")
        setenv("DEEPLEARNING_KEEP_BLAS_CORE", "1", 1)
        for pointer in cArguments { free(pointer) }
    }
}
