// auxk_pairs, auxk_bdec: the sparse part of the AuxK backward pass (shaders/auxk.wgsl has the whole pipeline;
// CPU twin src/reference/auxk.ts). ρ = coef·(ê − e) comes from auxk_rho.
//   auxk_pairs  per aux pair p = r·k_aux + j with v > 0: pairs[p] = (v, ⟨ρ[r], W_dec[i_p]⟩) = (z, ∂pre), else (0, 0);
//               the dot product over d in increasing order
//   auxk_bdec   one workgroup per d: ∂b_dec[d] −= Σ_p ∂pre_p·W_enc[d, i_p] (strided over p, tree-reduced)
//               (b_dec enters the pre-activations, not ê)
// Shapes: R = rows, D = d_model, S = d_sae, k_aux. Entry points: auxk_pairs, auxk_bdec. Override constant: WG
// (a power of two ≤ 256).

override WG: u32 = 64u;

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  d_sae: u32,    // S
  k_aux: u32,    // k_aux
  window: u32,
  alpha: f32,
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rho: array<f32>;            // (R, D)
@group(0) @binding(2) var<storage, read> indices: array<u32>;        // (R, k_aux)
@group(0) @binding(3) var<storage, read> values: array<f32>;         // (R, k_aux)
@group(0) @binding(4) var<storage, read> w_dec: array<f32>;          // (S, D)
@group(0) @binding(5) var<storage, read> w_enc: array<f32>;          // (D, S)
@group(0) @binding(6) var<storage, read_write> pairs: array<f32>;    // (R, k_aux, 2): z, ∂pre
@group(0) @binding(7) var<storage, read_write> g_b_dec: array<f32>;  // (D)

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn auxk_pairs(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let p = (wg.y * nwg.x + wg.x) * WG + lid;
  let k = params.k_aux;
  if (p >= params.rows * k) { return; }
  let v = values[p];
  var z = 0.0;
  var g = 0.0;
  if (v > 0.0) {
    let D = params.d_model;
    let r = p / k;
    let w0 = indices[p] * D;
    var dot = 0.0;
    for (var d = 0u; d < D; d++) { dot += rho[r * D + d] * w_dec[w0 + d]; }
    z = v;
    g = dot;
  }
  pairs[2u * p] = z;
  pairs[2u * p + 1u] = g;
}

@compute @workgroup_size(WG)
fn auxk_bdec(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let d = wg.y * nwg.x + wg.x;
  let D = params.d_model;
  if (d >= D) { return; }
  let S = params.d_sae;
  var acc = 0.0;
  for (var p = lid; p < params.rows * params.k_aux; p += WG) {
    let g = pairs[2u * p + 1u];
    if (g != 0.0) { acc += g * w_enc[d * S + indices[p]]; }
  }
  red[lid] = acc;
  workgroup_sum(lid);
  if (lid == 0u) { g_b_dec[d] = g_b_dec[d] - red[0]; }
}

//#include "reduce.wgsl"
