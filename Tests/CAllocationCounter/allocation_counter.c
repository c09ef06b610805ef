// The counting allocation entry points of allocation_counter.h.
#include "allocation_counter.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <errno.h>
#include <stddef.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

#include <execinfo.h>

static _Thread_local uint64_t thread_count;
static _Thread_local int thread_tracing;
static _Thread_local int in_trace;
static uint64_t process_count;

static inline void count(void) {
    thread_count += 1;
    __atomic_fetch_add(&process_count, 1, __ATOMIC_RELAXED);
    if (thread_tracing && !in_trace) {
        // Diagnostics: the allocating call stack, symbolized later (e.g. with swift demangle).
        in_trace = 1;
        void *frames[24];
        int n = backtrace(frames, 24);
        static const char line[] = "---- allocation\n";
        (void)!write(2, line, sizeof line - 1);
        backtrace_symbols_fd(frames, n, 2);
        in_trace = 0;
    }
}

void allocation_counter_trace(int on) { thread_tracing = on; }

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *valloc(size_t size) { count(); return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), size); }
void *pvalloc(size_t size) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    count();
    return __libc_memalign(page, (size + page - 1) / page * page);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    count();
    void *p = __libc_memalign(alignment, size);
    if (!p && size != 0) return ENOMEM;
    *out = p;
    return 0;
}

uint64_t allocation_counter_thread(void) { return thread_count; }
uint64_t allocation_counter_process(void) { return __atomic_load_n(&process_count, __ATOMIC_RELAXED); }
int allocation_counter_is_active(void) { return 1; }

#else
void allocation_counter_trace(int on) { (void)on; }
uint64_t allocation_counter_thread(void) { return 0; }
uint64_t allocation_counter_process(void) { return 0; }
int allocation_counter_is_active(void) { return 0; }
#endif
