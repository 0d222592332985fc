// OpenBLAS 0.3.21 (Debian 12) does not recognise recent Xeon models and falls back to its
// generic "Prescott" SSE3 kernels: CLIP image encoding measured 2-3x slower here. OpenBLAS reads
// OPENBLAS_CORETYPE once, when libtorch loads it before main(), so a program that wants the
// right kernels sets it and re-executes itself once.
#pragma once

namespace esper {

// Call first in main(). Returns only when no re-execution is needed (or it failed).
void ensureBlasCoreType(char** argv);

} // namespace esper
