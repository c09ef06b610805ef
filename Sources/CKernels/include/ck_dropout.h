// Inverted dropout for Float buffers, the keep mask generated on the fly from a counter-based
// random stream (nothing stored between the forward and the backward pass). No pointer may alias
// another of the same call.
#ifndef CK_DROPOUT_H
#define CK_DROPOUT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The parameters of the dropout stream: an element is kept (and multiplied by scale) when its
/// 32 random bits are >= threshold.
typedef struct {
    uint64_t key;
    uint64_t threshold;
    float scale;
} ck_dropout_mask;

/// out[i] = x[i] * (keep ? scale : 0) for i < count, element i being element first + i (first
/// even) of the stream: hash j is the SplitMix64 finalizer of key + (j + 1) * 0x9E3779B97F4A7C15, element 2j
/// takes its high 32 bits and element 2j + 1 its low 32 bits, and an element is kept when those
/// bits are >= threshold (u = bits * 2^-32 >= rate for threshold = ceil(rate * 2^32)).
void ck_dropout_f32(const float *x, float *out, ptrdiff_t first, ptrdiff_t count, uint64_t key, uint64_t threshold,
                    float scale);

#ifdef __cplusplus
}
#endif

#endif
