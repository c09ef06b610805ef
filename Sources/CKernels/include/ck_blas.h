// Choosing OpenBLAS's kernel family in the running process.
#ifndef CK_BLAS_H
#define CK_BLAS_H

#ifdef __cplusplus
extern "C" {
#endif

/// Makes an OpenBLAS built with DYNAMIC_ARCH (Debian's and Ubuntu's) switch to the kernel family
/// `core` (a name OPENBLAS_CORETYPE accepts, such as "SkylakeX") in this process: it sets
/// OPENBLAS_CORETYPE, asks OpenBLAS to choose its kernels again, and restores the variable.
/// Returns 1 when OpenBLAS was asked, 0 when the OpenBLAS in this process cannot do it (a build
/// without DYNAMIC_ARCH). No BLAS call may run in another thread meanwhile.
int ck_openblas_select_core(const char *core);

#ifdef __cplusplus
}
#endif

#endif
