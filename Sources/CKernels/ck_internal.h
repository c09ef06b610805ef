// Private to the CKernels target: the function multiversioning every hot kernel uses.
//
// CK_MULTIVERSION compiles a function three times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 +
// FMA) and the baseline, and lets the dynamic loader pick the best clone for the CPU at load time
// (an ELF ifunc), so the package needs no compiler flags. Elsewhere (another architecture or
// compiler) the function is compiled once, portably.
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include <stddef.h>

#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
#define CK_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CK_MULTIVERSION
#endif

/// For helpers of CK_MULTIVERSION functions: a plain `static inline` helper is compiled for the
/// baseline only and then called, not inlined, from the AVX-512 and AVX2 clones.
#define CK_ALWAYS_INLINE static inline __attribute__((always_inline))

#endif
