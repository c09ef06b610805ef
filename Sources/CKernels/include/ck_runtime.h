// What the kernels need to know about the machine.
#ifndef CK_RUNTIME_H
#define CK_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

/// The number of processors this process may run on (its CPU affinity mask), at least 1.
int ck_available_cpus(void);

/// The widest instruction set the multiversioned kernels run with on this CPU:
/// "x86-64-v4" (AVX-512), "x86-64-v3" (AVX2 + FMA) or "baseline".
const char *ck_kernel_isa(void);

#ifdef __cplusplus
}
#endif

#endif
