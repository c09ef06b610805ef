// The per-thread scratch arena of ck_scratch.h.
#include "ck_scratch.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

// A block of arena memory; the thread's blocks form a stack, `previous` pointing down.
typedef struct ck_block {
    struct ck_block *previous;
    unsigned char *base;   // aligned start of the usable bytes
    size_t size;           // usable bytes
    size_t used;           // bytes handed out and not yet released
} ck_block;

typedef struct {
    ck_block *top;         // the block pushes come from
    size_t retired;        // bytes of blocks freed since the arena was last empty
} ck_arena;

static _Thread_local ck_arena arena;
static pthread_key_t arena_key;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void free_blocks(ck_block *block) {
    while (block) {
        ck_block *previous = block->previous;
        free(block);
        block = previous;
    }
}

// Frees the blocks of a thread that exits (the key's value is only a flag that it has an arena).
static void release_thread_arena(void *unused) {
    (void)unused;
    free_blocks(arena.top);
    arena.top = NULL;
    arena.retired = 0;
}

static void make_key(void) { pthread_key_create(&arena_key, release_thread_arena); }

static ck_block *new_block(size_t size, ck_block *previous) {
    // One allocation for the header and the bytes, with room to align the bytes.
    unsigned char *raw = malloc(sizeof(ck_block) + size + CK_SCRATCH_ALIGNMENT);
    if (!raw) return NULL;
    ck_block *block = (ck_block *)raw;
    uintptr_t start = (uintptr_t)(raw + sizeof(ck_block));
    start = (start + CK_SCRATCH_ALIGNMENT - 1) & ~(uintptr_t)(CK_SCRATCH_ALIGNMENT - 1);
    block->previous = previous;
    block->base = (unsigned char *)start;
    block->size = size;
    block->used = 0;
    return block;
}

void *ck_scratch_push(size_t bytes) {
    size_t rounded = (bytes + CK_SCRATCH_ALIGNMENT - 1) & ~(size_t)(CK_SCRATCH_ALIGNMENT - 1);
    if (rounded == 0) rounded = CK_SCRATCH_ALIGNMENT;
    ck_block *top = arena.top;
    if (!top || top->size - top->used < rounded) {
        if (!top) {
            pthread_once(&arena_once, make_key);
            pthread_setspecific(arena_key, &arena);
        }
        // A new block for at least this buffer, doubling the previous block's size.
        size_t size = top ? top->size * 2 : (size_t)1 << 20;
        if (size < rounded) size = rounded;
        ck_block *block = new_block(size, top);
        if (!block) return NULL;
        arena.top = top = block;
    }
    void *buffer = top->base + top->used;
    top->used += rounded;
    return buffer;
}

void ck_scratch_pop(void *buffer) {
    ck_block *top = arena.top;
    if (!top || !buffer) return;
    top->used = (size_t)((unsigned char *)buffer - top->base);
    while (top->used == 0 && top->previous) {
        // An empty block above others: drop it, remember its size for the consolidation.
        ck_block *previous = top->previous;
        arena.retired += top->size;
        free(top);
        arena.top = top = previous;
    }
    if (top->used == 0 && arena.retired > 0) {
        // The arena is empty: one block as large as all the blocks it needed this time.
        size_t size = top->size + arena.retired;
        free(top);
        arena.top = new_block(size, NULL);
        arena.retired = 0;
    }
}

size_t ck_scratch_capacity(void) {
    size_t total = 0;
    for (ck_block *block = arena.top; block; block = block->previous) total += block->size;
    return total;
}
