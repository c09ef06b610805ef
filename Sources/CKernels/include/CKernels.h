// The CKernels module: every family header of the C kernels. A new family header must be
// included here (the module is built from this umbrella header, so a new header takes effect
// in incremental builds too).
#ifndef CKERNELS_H
#define CKERNELS_H

#include "ck_activation.h"
#include "ck_blas.h"
#include "ck_depthwise.h"
#include "ck_directconv.h"
#include "ck_dropout.h"
#include "ck_elementwise.h"
#include "ck_gemm.h"
#include "ck_normalization.h"
#include "ck_optimizers.h"
#include "ck_pooling.h"
#include "ck_runtime.h"
#include "ck_scratch.h"
#include "ck_threadpool.h"
#include "ck_winograd.h"

#endif
