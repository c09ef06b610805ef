#include "ck_blas.h"

#include <stdlib.h>
#include <string.h>

// OpenBLAS's DYNAMIC_ARCH entry points (driver/others/dynamic.c): `quit` forgets the kernel
// table, `init` chooses one again, honouring OPENBLAS_CORETYPE. Weak, so that a process whose
// OpenBLAS lacks them (a single-architecture build) still links and loads.
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));

int ck_openblas_select_core(const char *core) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    const char *old = getenv("OPENBLAS_CORETYPE");
    char *saved = old ? strdup(old) : NULL;
    setenv("OPENBLAS_CORETYPE", core, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    if (saved) {
        setenv("OPENBLAS_CORETYPE", saved, 1);
        free(saved);
    } else {
        unsetenv("OPENBLAS_CORETYPE");
    }
    return 1;
}
