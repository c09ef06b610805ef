// The spinning thread pool: see ck_threadpool.h.
//
// One job at a time. The caller writes the job (task, context, parts), then publishes it in
// `claim`, a 64-bit word holding the job's generation (high half) and the next unclaimed part (low
// half). Workers and the caller take parts by compare-and-swap on that word, so a worker that
// read an older job's fields can never run a part of it after the job changed: its swap fails
// because the generation moved on. The caller returns when every part has finished, and only
// then may it (or another caller) publish the next job.
//
// Idle workers poll `claim` for SPIN_NS nanoseconds after their last part, then sleep on the
// futex `wake`; a caller that publishes a job while workers sleep bumps `wake` and wakes them.
#define _GNU_SOURCE
#include "ck_threadpool.h"

#if defined(__linux__)
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <sched.h>
#include <unistd.h>

enum { SPIN_NS = 200000 };

// Every shared field is accessed only through the __atomic builtins.
static struct {
    uint64_t claim;               // generation << 32 | next part
    ck_task_fn task;
    void *context;
    ptrdiff_t parts;
    ptrdiff_t remaining;          // parts not yet finished
    int busy;                     // a caller owns the pool
    uint32_t wake;                // futex word
    int sleepers;
    int workers;
} pool;

static _Thread_local int in_task;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static inline uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/// Takes and runs parts of job `generation` until none is left or the job changed.
static void run_parts(uint64_t generation) {
    uint64_t c = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((c >> 32) != generation) return;
        const ptrdiff_t parts = __atomic_load_n(&pool.parts, __ATOMIC_RELAXED);
        const ck_task_fn task = __atomic_load_n(&pool.task, __ATOMIC_RELAXED);
        void *const context = __atomic_load_n(&pool.context, __ATOMIC_RELAXED);
        const ptrdiff_t part = (ptrdiff_t)(c & 0xFFFFFFFFu);
        if (part >= parts) return;
        if (__atomic_compare_exchange_n(&pool.claim, &c, c + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            // The swap succeeded on this generation with this part unclaimed, so the job is not
            // finished and its fields, read above, are this job's.
            task(context, part);
            __atomic_fetch_sub(&pool.remaining, 1, __ATOMIC_RELEASE);
            c = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE);
        }
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    in_task = 1;  // a task that calls Parallel again runs its parts on libdispatch
    uint64_t seen = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE) >> 32;
    for (;;) {
        uint64_t generation = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE) >> 32;
        if (generation == seen) {
            const uint64_t start = now_ns();
            for (unsigned i = 1;; i++) {
                cpu_relax();
                generation = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE) >> 32;
                if (generation != seen) break;
                if ((i & 255) == 0 && now_ns() - start > SPIN_NS) {
                    const uint32_t ticket = __atomic_load_n(&pool.wake, __ATOMIC_SEQ_CST);
                    __atomic_fetch_add(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
                    generation = __atomic_load_n(&pool.claim, __ATOMIC_SEQ_CST) >> 32;
                    if (generation == seen) {
                        syscall(SYS_futex, &pool.wake, FUTEX_WAIT_PRIVATE, ticket, NULL, NULL, 0);
                    }
                    __atomic_fetch_sub(&pool.sleepers, 1, __ATOMIC_SEQ_CST);
                    generation = __atomic_load_n(&pool.claim, __ATOMIC_ACQUIRE) >> 32;
                    if (generation != seen) break;
                    i = 0;
                }
            }
        }
        seen = generation;
        run_parts(generation);
    }
    return NULL;
}

static int requested_workers;

static void start_workers(void) {
    for (int i = 0; i < requested_workers; i++) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, worker_main, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.workers++;
    }
}

int ck_pool_start(int workers) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (workers > 0 && __atomic_load_n(&requested_workers, __ATOMIC_RELAXED) == 0) {
        __atomic_store_n(&requested_workers, workers, __ATOMIC_RELAXED);
    }
    if (__atomic_load_n(&requested_workers, __ATOMIC_RELAXED) > 0) pthread_once(&once, start_workers);
    return pool.workers;
}

int ck_pool_run(ptrdiff_t parts, ck_task_fn task, void *context) {
    if (in_task || pool.workers == 0 || parts <= 0 || parts > 0xFFFFFFFF) return 0;
    int expected = 0;
    if (!__atomic_compare_exchange_n(&pool.busy, &expected, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return 0;
    // Every part of the previous job has finished (its caller waited), so nobody reads the fields now.
    // The generation wraps at 2^32 (it must fit the high half of `claim`).
    const uint64_t generation = ((__atomic_load_n(&pool.claim, __ATOMIC_RELAXED) >> 32) + 1) & 0xFFFFFFFFu;
    __atomic_store_n(&pool.task, task, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.context, context, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.parts, parts, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.remaining, parts, __ATOMIC_RELAXED);
    __atomic_store_n(&pool.claim, generation << 32, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&pool.sleepers, __ATOMIC_SEQ_CST) > 0) {
        __atomic_fetch_add(&pool.wake, 1, __ATOMIC_SEQ_CST);
        syscall(SYS_futex, &pool.wake, FUTEX_WAKE_PRIVATE, pool.workers, NULL, NULL, 0);
    }
    in_task = 1;
    run_parts(generation);
    in_task = 0;
    for (unsigned i = 1; __atomic_load_n(&pool.remaining, __ATOMIC_ACQUIRE) > 0; i++) {
        cpu_relax();
        if ((i & 1023) == 0) sched_yield();  // a worker was descheduled: let it run
    }
    __atomic_store_n(&pool.busy, 0, __ATOMIC_RELEASE);
    return 1;
}

#else

int ck_pool_start(int workers) {
    (void)workers;
    return 0;
}

int ck_pool_run(ptrdiff_t parts, ck_task_fn task, void *context) {
    (void)parts, (void)task, (void)context;
    return 0;
}

#endif
