#ifndef SDL_CZLIB_SHIM_H
#define SDL_CZLIB_SHIM_H
#include <zlib.h>
#endif
