#ifndef STRATA_CBLAS_SHIM_H
#define STRATA_CBLAS_SHIM_H
// OpenBLAS (CBLAS interface, LP64) and the reference LAPACKE C interface.
// Debian's libopenblas does not export LAPACKE symbols, so liblapacke is linked as well.
#include <cblas.h>
#include <lapacke.h>

/// LAPACK's integer type as this build sees it (LP64: 32-bit).
typedef lapack_int strata_lapack_int;

#endif
