// Counts heap allocations in the test process, for tests that check a code path allocates nothing.
//
// This target defines glibc's allocation entry points (malloc, calloc, realloc, memalign,
// posix_memalign, aligned_alloc, valloc, pvalloc) in the test executable, where they take
// precedence over libc's for every library of the process (the Swift runtime included); each
// counts the call and forwards to glibc's own implementation (`__libc_malloc` and friends).
// `free` is glibc's. Test-only: the library targets never link this.
#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Allocations made so far by the calling thread.
uint64_t allocation_counter_thread(void);

/// Allocations made so far by all threads of the process.
uint64_t allocation_counter_process(void);

/// Turns on (1) or off (0) printing the call stack of every allocation the calling thread makes
/// to standard error (a diagnostic for finding where a path allocates).
void allocation_counter_trace(int on);

/// Whether this platform counts allocations (glibc on Linux); elsewhere both counters stay 0.
int allocation_counter_is_active(void);

#ifdef __cplusplus
}
#endif

#endif
