#include "ck_dropout.h"
#include "ck_internal.h"

CK_MULTIVERSION
void ck_dropout_f32(const float *restrict x, float *restrict out, ptrdiff_t first, ptrdiff_t count, uint64_t key,
                    uint64_t threshold, float scale) {
    const uint64_t pair0 = (uint64_t)(first / 2);
    const ptrdiff_t pairs = count / 2;
    for (ptrdiff_t p = 0; p < pairs; p++) {
        const uint64_t z = ck_dropout_hash(key, pair0 + (uint64_t)p);
        out[2 * p] = x[2 * p] * ((z >> 32) >= threshold ? scale : 0.0f);
        out[2 * p + 1] = x[2 * p + 1] * ((z & 0xFFFFFFFFull) >= threshold ? scale : 0.0f);
    }
    if (count & 1) {  // the last element takes the high half of its pair's hash
        const uint64_t z = ck_dropout_hash(key, pair0 + (uint64_t)pairs);
        out[count - 1] = x[count - 1] * ((z >> 32) >= threshold ? scale : 0.0f);
    }
}
