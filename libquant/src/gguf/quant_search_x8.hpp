#pragma once
// Eight independent scale searches at once (one per AVX2 lane): the k-quant
// super-blocks have 8 (Q4_K/Q5_K) or 16 (Q6_K) sub-blocks whose searches do
// not interact, so running them side by side in SIMD lanes keeps every
// lane's arithmetic, accumulation order and rounding identical to the scalar
// search (no FMA, no reassociation) while doing 8 of them per instruction.
// Without AVX2 the scalar searches run one after another.
#include <cstdint>

#include "quant_search.hpp"

namespace libquant::gguf {

// make_affine_scale for 8 groups of n (<= 32) values stored one after
// another (group g at x + g*n); weights likewise (null: x^2). Outputs: L
// (group g at L + g*n), the_min[8], and the scales[8].
void make_affine_scale_x8(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min, float* scales,
                          float rmin, float rdelta, int nstep, bool use_mad);

// make_symmetric_scale with ErrorWeight::Square for 8 groups of n (<= 32).
void make_symmetric_scale_x8(int n, int nmax, const float* x, int8_t* L, const float* qw, float* scales);

}  // namespace libquant::gguf
