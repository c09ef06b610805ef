import CKernels
import Testing
import TestSupport
@testable import Tensor

/// The per-thread scratch arena behind `withScratchBuffer`: aligned, nested buffers that are
/// reused from call to call without heap allocations once the arena has grown.
@Suite struct ScratchArenaTests {
    @Test func buffersAreAlignedDistinctAndNested() {
        withScratchBuffer(count: 3) { (a: UnsafeMutablePointer<Float>) in
            withScratchBuffer(count: 5) { (b: UnsafeMutablePointer<Double>) in
                #expect(Int(bitPattern: a) % 64 == 0)
                #expect(Int(bitPattern: b) % 64 == 0)
                // b starts after a's 12 bytes, rounded to the alignment.
                #expect(UnsafeRawPointer(b) >= UnsafeRawPointer(a) + 12)
                for i in 0..<3 { a[i] = Float(i) }
                for i in 0..<5 { b[i] = -Double(i) }
                #expect(a[2] == 2 && b[4] == -4)
            }
        }
    }

    @Test func growsOnceThenReusesWithoutAllocating() throws {
        // A pattern larger than the first block (1 MiB): nested buffers of 0.75 MiB and 3 MiB.
        func pass() -> Float {
            withScratchBuffer(count: 196_608) { (outer: UnsafeMutablePointer<Float>) -> Float in
                outer[0] = 1
                outer[196_607] = 2
                return withScratchBuffer(count: 786_432) { (inner: UnsafeMutablePointer<Float>) -> Float in
                    inner[0] = 3
                    inner[786_431] = 4
                    return outer[0] + outer[196_607] + inner[0] + inner[786_431]
                }
            }
        }
        #expect(pass() == 10)
        let capacity = ck_scratch_capacity()
        #expect(capacity >= (196_608 + 786_432) * 4)
        let (sum, allocations) = AllocationCounter.countingThreadAllocations {
            var total: Float = 0
            for _ in 0..<10 { total += pass() }
            return total
        }
        #expect(sum == 100)
        #expect(ck_scratch_capacity() == capacity)
        if AllocationCounter.isActive {
            #expect(allocations == 0)
            // The counter sees allocations (so the zero above is measured, not assumed).
            let (array, counted) = AllocationCounter.countingThreadAllocations { [Int](repeating: 7, count: 1000) }
            #expect(array.count == 1000 && counted >= 1)
        }
    }
}
