#ifndef SDL_CMALLOC_SHIM_H
#define SDL_CMALLOC_SHIM_H
// glibc's malloc tuning (mallopt and its M_* parameters), for AllocatorPolicy.
#if defined(__linux__)
#include <malloc.h>
#endif
#endif
