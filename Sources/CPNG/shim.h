#ifndef SDL_CPNG_SHIM_H
#define SDL_CPNG_SHIM_H
#include <png.h>
#endif
