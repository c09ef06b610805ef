#ifndef SDL_COPENBLAS_SHIM_H
#define SDL_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
