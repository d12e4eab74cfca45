// bdec_grad: gradient of b_dec, dense, one workgroup per d_model coordinate d. b_dec enters twice (added to x̂
// and subtracted from x before the encoder), so
//   ∂b_dec[d] = scale · Σ_r (x̂[r, d] − x[r, d])  −  Σ_s W_enc[d, s] · ∂b_enc[s]
// (Σ_s W_enc[d, s]·∂b_enc[s] = Σ_p ∂pre[p]·W_enc[d, index[p]], the encoder path, summed per latent first.)
// Both sums are strided over the workgroup and tree-reduced in workgroup memory (fixed order, no atomics).
//
// Shapes: R = rows, D = d_model, S = d_sae. Entry point: bdec_grad. Override constant: WG (a power of two).

override WG: u32 = 64u;

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  d_sae: u32,    // S
  _pad0: u32,
  scale: f32,    // 2 / (R·D)
  _pad1: u32,
  _pad2: u32,
  _pad3: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;              // (R, D)
@group(0) @binding(2) var<storage, read> x_hat: array<f32>;          // (R, D)
@group(0) @binding(3) var<storage, read> w_enc: array<f32>;          // (D, S)
@group(0) @binding(4) var<storage, read> g_b_enc: array<f32>;        // (S)
@group(0) @binding(5) var<storage, read_write> g_b_dec: array<f32>;  // (D)

var<workgroup> red: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn bdec_grad(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let d = wg.y * nwg.x + wg.x;
  let D = params.d_model;
  if (d >= D) { return; }
  let S = params.d_sae;
  var col = 0.0;
  for (var r = lid; r < params.rows; r += WG) { col += x_hat[r * D + d] - x[r * D + d]; }
  var enc = 0.0;
  for (var s = lid; s < S; s += WG) { enc += w_enc[d * S + s] * g_b_enc[s]; }
  red[lid] = vec2<f32>(col, enc);
  workgroup_sum(lid);
  if (lid == 0u) { g_b_dec[d] = red[0].x * params.scale - red[0].y; }
}

//#include "reduce.wgsl"
