// activation: dense activations of the BatchTopK / JumpReLU / ReLU SAEs and their backward pass per latent, with
// the sparsity terms. CPU twin: src/reference/activation.ts (formulas, modes and the f32 order).
//
// Shapes: R = rows, S = d_sae, D = d_model.
//   activation_forward   one invocation per element: relu z = pre > 0 ? pre : 0;  threshold z = pre > θ_s ? pre : 0
//   activation_count     one invocation per latent: counts[s] = #{r : z[r, s] ≠ 0}              (evaluation)
//   activation_backward  one invocation per latent s, rows in increasing r (fixed order, no atomics):
//     active = z ≠ 0;  ∂pre = active ? ∂z' : 0 (in place over ∂z);  ∂b_enc[s] = Σ ∂pre;  count = Σ active
//     mode 0 masked:   ∂z' = ∂z                                    (BatchTopK)
//     mode 1 relu:     ∂z' = ∂z + λ'·‖W_dec,s‖;  ∂W_dec[s] += (λ'·Σ_r z / ‖W_dec,s‖)·W_dec[s]     (L1 term)
//     mode 2 jumprelu: ∂z' = ∂z;  ∂L/∂log θ = −(θ/ε)·Σ_{r: |u|<½} (θ·∂z + λ'),  u = (pre − θ)/ε   (rectangle STE)
//   col = [count (u32) | Σ_r z | ‖W_dec,s‖ | ∂L/∂log θ] in four planes of S words (structure of arrays), so its
//   first plane is the per-latent fire counts the stats kernel reads.
// Entry points: activation_forward, activation_count, activation_backward. Override constant: WG.

override WG: u32 = 64u;

struct Params {
  rows: u32,      // R
  d_sae: u32,     // S
  d_model: u32,   // D
  mode: u32,      // forward: 0 relu, 1 threshold; backward: 0 masked, 1 relu, 2 jumprelu
  lambda: f32,    // λ' = λ/(R·D)
  bandwidth: f32, // ε
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pre: array<f32>;              // (R, S)
@group(0) @binding(2) var<storage, read> threshold: array<f32>;        // (S) θ
@group(0) @binding(3) var<storage, read_write> z: array<f32>;          // (R, S) written by forward, read by backward
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;       // (R, S) ∂z in, ∂pre out
@group(0) @binding(5) var<storage, read> w_dec: array<f32>;            // (S, D)
@group(0) @binding(6) var<storage, read_write> g_w_dec: array<f32>;    // (S, D)
@group(0) @binding(7) var<storage, read_write> g_b_enc: array<f32>;    // (S)
@group(0) @binding(8) var<storage, read_write> col: array<u32>;        // (4, S): count | Σz | norm | ∂log θ

//#include "linear_id.wgsl"

@compute @workgroup_size(WG)
fn activation_forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                      @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  if (i >= params.rows * params.d_sae) { return; }
  let p = pre[i];
  var cut = 0.0;
  if (params.mode == 1u) { cut = threshold[i % params.d_sae]; }
  var out = 0.0;
  if (p > cut) { out = p; }
  z[i] = out;
}

@compute @workgroup_size(WG)
fn activation_count(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let s = linear_id(wg, nwg, lid);
  let S = params.d_sae;
  if (s >= S) { return; }
  var count = 0u;
  for (var r = 0u; r < params.rows; r++) {
    if (z[r * S + s] != 0.0) { count += 1u; }
  }
  col[s] = count;
}

@compute @workgroup_size(WG)
fn activation_backward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let s = linear_id(wg, nwg, lid);
  let S = params.d_sae;
  if (s >= S) { return; }
  let D = params.d_model;
  let mode = params.mode;
  let lam = params.lambda;
  var add = 0.0;
  var norm = 0.0;
  if (mode == 1u) {
    var ww = 0.0;
    for (var d = 0u; d < D; d++) {
      let w = w_dec[s * D + d];
      ww += w * w;
    }
    norm = sqrt(ww);
    add = lam * norm;
  }
  var th = 0.0;
  if (mode == 2u) { th = threshold[s]; }
  let eps = params.bandwidth;
  var gb = 0.0;
  var count = 0u;
  var zs = 0.0;
  var acc = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    let i = r * S + s;
    let zz = z[i];
    let gz = grad[i];
    var gp = 0.0;
    if (zz != 0.0) {
      gp = gz;
      if (mode == 1u) { gp = gz + add; }
      count += 1u;
    }
    grad[i] = gp;
    gb += gp;
    zs += zz;
    if (mode == 2u) {
      let u = (pre[i] - th) / eps;
      if (u > -0.5 && u < 0.5) { acc += th * gz + lam; }
    }
  }
  g_b_enc[s] = gb;
  col[s] = count;
  col[S + s] = bitcast<u32>(zs);
  col[2u * S + s] = bitcast<u32>(norm);
  var g_log = 0.0;
  if (mode == 2u) { g_log = -(th * acc) / eps; }
  col[3u * S + s] = bitcast<u32>(g_log);
  if (mode == 1u && norm > 0.0) {
    let c = (lam * zs) / norm;
    for (var d = 0u; d < D; d++) {
      g_w_dec[s * D + d] = g_w_dec[s * D + d] + c * w_dec[s * D + d];
    }
  }
}
