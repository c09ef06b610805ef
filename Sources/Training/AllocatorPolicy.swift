import CMalloc
import Foundation

/// How the C allocator is tuned for training, applied once per process.
///
/// A training step frees and re-allocates the same large activation and gradient buffers (tens
/// of MB each) every step. With glibc's defaults, every allocation above the mmap threshold
/// (128 KiB, raised dynamically to at most 32 MiB) is a fresh `mmap` and every free a `munmap`,
/// so each step pays page faults to zero-fill memory it just returned; and freed memory at the
/// top of the heap is trimmed back to the system, with the same effect. On Linux with glibc,
/// ``apply()`` raises both thresholds to ``threshold`` (1 GiB) with `mallopt`, so freed buffers
/// stay in the heap and the next step reuses them. Peak memory does not grow: the buffers are the
/// same sizes each step, they are just not returned between steps.
///
/// ``Trainer`` applies the policy when it is created; a program that runs models without a
/// trainer can call ``apply()`` itself at startup. Set the environment variable
/// `DEEPLEARNING_MALLOC_DEFAULTS=1` to keep glibc's defaults (for example to compare, or when
/// sharing the process with code that tunes malloc itself). On other platforms it does nothing.
public enum AllocatorPolicy {
    /// The environment variable that, set to `1`, keeps the C allocator's defaults.
    public static let disablingVariable = "DEEPLEARNING_MALLOC_DEFAULTS"

    /// The mmap and trim thresholds set, in bytes (1 GiB).
    public static let threshold = 1 << 30

    /// Applies the policy (once per process; later calls return the first outcome) and returns
    /// whether the allocator was tuned: `false` when `DEEPLEARNING_MALLOC_DEFAULTS=1`, on
    /// platforms without glibc, or when `mallopt` refused a setting.
    @discardableResult
    public static func apply() -> Bool { applied }

    private static let applied: Bool = {
        if ProcessInfo.processInfo.environment[disablingVariable] == "1" { return false }
        #if os(Linux) && canImport(Glibc)
        let mmap = mallopt(M_MMAP_THRESHOLD, Int32(threshold))
        let trim = mallopt(M_TRIM_THRESHOLD, Int32(threshold))
        return mmap == 1 && trim == 1
        #else
        return false
        #endif
    }()
}
