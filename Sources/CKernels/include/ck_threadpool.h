// A small thread pool whose workers spin briefly between tasks, for `Parallel`.
//
// libdispatch's `concurrentPerform` wakes a sleeping worker for every call; on a virtual machine
// waking an idle vCPU takes a few hundred microseconds, as long as a whole kernel at batch 32, so
// short runs of a parallel kernel ran on one core. The pool's workers keep spinning for a short
// while after a task (as OpenMP's do) and sleep on a futex after that.
#ifndef CK_THREADPOOL_H
#define CK_THREADPOOL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A task: runs part `part` of the work described by `context`.
typedef void (*ck_task_fn)(void *context, ptrdiff_t part);

/// Starts the pool with `workers` threads (the caller of `ck_pool_run` is one more), once; later
/// calls do nothing. Returns the number of workers running (0: no pool, e.g. `workers` <= 0 or
/// the threads could not be created).
int ck_pool_start(int workers);

/// Runs `task(context, part)` once for every `part` in 0 ..< `parts`, on the pool's workers and
/// the calling thread, and returns 1 when all have finished. Returns 0 without running anything
/// when the pool cannot take the work: not started, already running another caller's work, or
/// called from inside a task (the caller then runs the parts another way).
int ck_pool_run(ptrdiff_t parts, ck_task_fn task, void *context);

#ifdef __cplusplus
}
#endif

#endif
