// The layering test's deliberate violation: checked as a source of the GGUF
// codec module (level 1), this include of a job (the top level) must make
// cmake/Layering.cmake fail. Never compiled.
#include "libquant/jobs/analyze.hpp"
