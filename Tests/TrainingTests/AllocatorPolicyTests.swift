import Foundation
import Testing
import Training

@Suite("Allocator policy")
struct AllocatorPolicyTests {
    @Test func appliesOnGlibcUnlessDisabled() {
        let disabled = ProcessInfo.processInfo.environment[AllocatorPolicy.disablingVariable] == "1"
        #if canImport(Glibc)
        #expect(AllocatorPolicy.apply() == !disabled)
        #else
        #expect(AllocatorPolicy.apply() == false)
        #endif
        // Applying again returns the first outcome.
        #expect(AllocatorPolicy.apply() == AllocatorPolicy.apply())
        #expect(AllocatorPolicy.threshold == 1 << 30)
    }
}
