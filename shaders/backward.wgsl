// backward: per-pair gradient of the TopK SAE loss, loss = (1/(R·D)) Σ (x̂ − x)².
//   g[r]      = scale · (x̂[r] − x[r]),  scale = 2/(R·D)      grad of x̂ (dense, recomputed, never stored)
//   ∂z[p]     = ⟨g[r], W_dec[index[p]]⟩                       p = r·k + j
//   ∂pre[p]   = ∂z[p] if value[p] > 0 else 0                   ReLU of TopK (Gao et al. 2024 §2.3)
// pairs[p] = (z[p], ∂pre[p]) with z = max(value, 0): the sparse inputs of backward_latents.
// The dot product runs over d in increasing order and is scaled last, as in src/reference/backward.ts.
//
// Shapes: R = rows, D = d_model, S = d_sae, k. Entry point: backward. Override constant: WG.

override WG: u32 = 64u;

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  d_sae: u32,    // S
  k: u32,        // k
  scale: f32,    // 2 / (R·D)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;             // (R, D)
@group(0) @binding(2) var<storage, read> x_hat: array<f32>;         // (R, D)
@group(0) @binding(3) var<storage, read> indices: array<u32>;       // (R, k)
@group(0) @binding(4) var<storage, read> values: array<f32>;        // (R, k)
@group(0) @binding(5) var<storage, read> w_dec: array<f32>;         // (S, D)
@group(0) @binding(6) var<storage, read_write> pairs: array<f32>;   // (R, k, 2): z, ∂pre

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let p = (wg.y * nwg.x + wg.x) * WG + lid;
  let k = params.k;
  if (p >= params.rows * k) { return; }
  let v = values[p];
  var z = 0.0;
  var g = 0.0;
  if (v > 0.0) {
    let D = params.d_model;
    let r = p / k;
    let w0 = indices[p] * D;
    var dot = 0.0;
    for (var d = 0u; d < D; d++) {
      dot += (x_hat[r * D + d] - x[r * D + d]) * w_dec[w0 + d];
    }
    z = v;
    g = dot * params.scale;
  }
  pairs[2u * p] = z;
  pairs[2u * p + 1u] = g;
}
