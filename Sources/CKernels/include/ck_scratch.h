// A per-thread stack of scratch memory that is reused from call to call, for `withScratchBuffer`.
//
// Kernels need temporary buffers (im2col columns, Winograd transforms, per-thread partial sums)
// for the duration of one call. Allocating them with malloc on every call is one heap allocation
// per kernel per step; this arena hands out memory from blocks it keeps for the thread's
// lifetime, so a training step that repeats the same calls allocates only until the blocks have
// grown to the step's largest nesting of buffers (the first step), then never again.
#ifndef CK_SCRATCH_H
#define CK_SCRATCH_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The alignment of every buffer `ck_scratch_push` returns, in bytes.
#define CK_SCRATCH_ALIGNMENT 64

/// Returns `bytes` bytes (at least 1) of uninitialized memory aligned to `CK_SCRATCH_ALIGNMENT`
/// from the calling thread's arena, or NULL when memory is exhausted. Buffers are released in
/// the reverse order of their pushes with `ck_scratch_pop`, on the same thread.
void *ck_scratch_push(size_t bytes);

/// Releases `buffer`, the most recent buffer `ck_scratch_push` returned on this thread that is
/// not yet released. When the arena becomes empty after it had to add blocks, its blocks are
/// replaced by one block as large as all of them, so the next pass needs no new block.
void ck_scratch_pop(void *buffer);

/// The bytes the calling thread's arena holds in blocks (for tests and diagnostics).
size_t ck_scratch_capacity(void);

#ifdef __cplusplus
}
#endif

#endif
