// arch_stats: the architecture-specific words of a step's stats buffer (after shaders/stats.wgsl), one workgroup:
//   out[5] = AuxK loss (scalars[0] of shaders/auxk.wgsl) when AuxK is on, else 0        (f32 bits)
//   out[6] = sparsity loss λ·(1/B)·Σ_t P_t:  mode 1 relu  P summed = Σ_s (Σ_r z_rs)·‖W_dec,s‖
//                                             mode 2 jumprelu P summed = Σ_s fire count = L0 sum;  mode 0 → 0
// (per-token units of Gemma Scope / SAELens; src/sae/types.ts). CPU twin: sparsityLossOf in
// src/reference/sae-engine.ts (float64 there, an f32 tree here).
//
// Shapes: S = d_sae, B = rows. Entry point: arch_stats. Override constant: WG (a power of two).
// Subgroup variant (src/gpu/kernels/arch-stats.ts, `subgroups`): include/reduce-sg.wgsl replaces reduce.wgsl.

override WG: u32 = 256u;

struct Params {
  d_sae: u32,    // S
  rows: u32,     // B
  mode: u32,     // 0 none, 1 relu, 2 jumprelu
  has_aux: u32,  // 1 when AuxK is on
  lambda: f32,   // λ of this step (per-token units)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> col: array<u32>;        // (4, S): count | Σz | ‖W_dec‖ | ∂log θ
@group(0) @binding(2) var<storage, read> aux: array<f32>;        // (8) AuxK scalars
@group(0) @binding(3) var<storage, read_write> out: array<u32>;  // (8) step stats

alias RedT = f32;
var<workgroup> red: array<RedT, WG>;

@compute @workgroup_size(WG)
fn arch_stats(ids: ReduceIds) {
  let lid = ids.lid;
  let S = params.d_sae;
  var part = 0.0;
  if (params.mode == 1u) {
    for (var s = lid; s < S; s += WG) { part += bitcast<f32>(col[S + s]) * bitcast<f32>(col[2u * S + s]); }
  } else if (params.mode == 2u) {
    for (var s = lid; s < S; s += WG) { part += f32(col[s]); }
  }
  red[lid] = part;
  workgroup_reduce(ids);
  if (lid == 0u) {
    var aux_loss = 0.0;
    if (params.has_aux == 1u) { aux_loss = aux[0]; }
    out[5] = bitcast<u32>(aux_loss);
    out[6] = bitcast<u32>(params.lambda * red[0] / f32(params.rows));
  }
}

//#include "reduce.wgsl"
