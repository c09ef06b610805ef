// Private to the CKernels target: the function multiversioning every hot kernel uses.
//
// CK_MULTIVERSION compiles a function three times, for x86-64-v4 (AVX-512), x86-64-v3 (AVX2 +
// FMA) and the baseline, and lets the dynamic loader pick the best clone for the CPU at load time
// (an ELF ifunc), so the package needs no compiler flags. Elsewhere (another architecture or
// compiler) the function is compiled once, portably.
#ifndef CK_INTERNAL_H
#define CK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__clang__) && defined(__ELF__)
#define CK_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CK_MULTIVERSION
#endif

/// For helpers of CK_MULTIVERSION functions: a plain `static inline` helper is compiled for the
/// baseline only and then called, not inlined, from the AVX-512 and AVX2 clones.
#define CK_ALWAYS_INLINE static inline __attribute__((always_inline))

// Hash j of the dropout stream (ck_dropout.h): the SplitMix64 finalizer of key + (j + 1) * golden gamma.
static inline uint64_t ck_dropout_hash(uint64_t key, uint64_t j) {
    uint64_t z = key + (j + 1) * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The dropout factor of stream element e: scale where its 32 bits (the high half of hash e / 2 for
// an even e, the low half for an odd one) are >= threshold, else 0.
static inline float ck_dropout_factor(uint64_t key, uint64_t threshold, float scale, uint64_t e) {
    const uint64_t z = ck_dropout_hash(key, e >> 1);
    const uint64_t bits = (e & 1) ? (z & 0xFFFFFFFFull) : (z >> 32);
    return bits >= threshold ? scale : 0.0f;
}

#endif
