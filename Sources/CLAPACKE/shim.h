#ifndef SDL_CLAPACKE_SHIM_H
#define SDL_CLAPACKE_SHIM_H
#include <lapacke.h>
#endif
