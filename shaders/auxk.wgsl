// auxk: the AuxK loss for dead latents (Gao et al. 2024 §A.2, seed 000_03f50111ba1a6c62.txt) and its gradients,
// added to the main gradients of a TopK or BatchTopK step. CPU twin: src/reference/auxk.ts (formulas, order).
// Three shader files, one binding layout each: shaders/auxk.wgsl (this one), shaders/auxk-pairs.wgsl,
// shaders/auxk-latents.wgsl; host: src/gpu/kernels/auxk.ts.
//
// Shapes: R = rows, D = d_model, S = d_sae, k_aux. Pipeline of one step:
//   auxk_mask      pre[r, s] ← −FLT_MAX unless latent s is dead (steps_since_fired ≥ window); in place, after the
//                  main backward pass no longer needs pre
//   (topk.wgsl)    TopK_{k_aux} of the masked pre-activations → aux (index, value) [R, k_aux]
//   auxk_residual  e = x − x̂
//   (decode.wgsl)  ê = Σ_j ReLU(v_j)·W_dec[i_j] with a zero b_dec, and per-row ‖ê − e‖² (x := e)
//   auxk_scale     one workgroup: n_dead, SSE_aux = Σ_r ‖e_r − ê_r‖², SST_e, SST_x (two passes per column);
//                  s = min(n_dead/k_aux, 1); loss = α·s·SSE_aux/SST_e; coef = 2·α·s·SST_x/(R·D·SST_e)
//                  (both 0 when n_dead = 0 or SST_e = 0) → scalars = (loss, coef, n_dead, SSE_aux, SST_e, SST_x)
//   auxk_rho       ρ = coef·(ê − e), written over ê      (∂ of the engine's AuxK term w.r.t. ê)
//   auxk_pairs, auxk_bdec (auxk-pairs.wgsl), bucket.wgsl, auxk_latents (auxk-latents.wgsl): the gradients.
// Entry points: auxk_mask, auxk_residual, auxk_scale, auxk_rho. Override constant: WG (a power of two ≤ 256).

override WG: u32 = 64u;

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  d_sae: u32,    // S
  k_aux: u32,    // k_aux
  window: u32,   // dead after this many steps without firing
  alpha: f32,    // α
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                  // (R, D)
@group(0) @binding(2) var<storage, read> x_hat: array<f32>;              // (R, D) main reconstruction
@group(0) @binding(3) var<storage, read> steps_since_fired: array<u32>;  // (S)
@group(0) @binding(4) var<storage, read> aux_rows: array<f32>;           // (R, 4) aux decode row sums
@group(0) @binding(5) var<storage, read_write> pre: array<f32>;          // (R, S), masked in place
@group(0) @binding(6) var<storage, read_write> e: array<f32>;            // (R, D) residual
@group(0) @binding(7) var<storage, read_write> e_hat: array<f32>;        // (R, D) ê, then ρ
@group(0) @binding(8) var<storage, read_write> scalars: array<f32>;      // (8)

var<workgroup> red_f: array<vec4<f32>, WG>;
var<workgroup> red_u: array<u32, WG>;

//#include "linear_id.wgsl"

@compute @workgroup_size(WG)
fn auxk_mask(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  let S = params.d_sae;
  if (i >= params.rows * S) { return; }
  if (steps_since_fired[i % S] < params.window) { pre[i] = -0x1.fffffep+127f; }  // −FLT_MAX (a const −∞ is invalid WGSL)
}

@compute @workgroup_size(WG)
fn auxk_residual(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  if (i >= params.rows * params.d_model) { return; }
  e[i] = x[i] - x_hat[i];
}

@compute @workgroup_size(WG)
fn auxk_scale(@builtin(local_invocation_index) lid: u32) {
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  var n_dead = 0u;
  for (var s = lid; s < S; s += WG) {
    if (steps_since_fired[s] >= params.window) { n_dead += 1u; }
  }
  var sse = 0.0;
  for (var r = lid; r < R; r += WG) { sse += aux_rows[r * 4u]; }
  var sst_x = 0.0;
  var sst_e = 0.0;
  for (var d = lid; d < D; d += WG) {
    var sum_x = 0.0;
    var sum_e = 0.0;
    for (var r = 0u; r < R; r++) {
      sum_x += x[r * D + d];
      sum_e += e[r * D + d];
    }
    let mean_x = sum_x / f32(R);
    let mean_e = sum_e / f32(R);
    for (var r = 0u; r < R; r++) {
      let a = x[r * D + d] - mean_x;
      let b = e[r * D + d] - mean_e;
      sst_x += a * a;
      sst_e += b * b;
    }
  }
  red_f[lid] = vec4<f32>(sse, sst_x, sst_e, 0.0);
  red_u[lid] = n_dead;
  workgroup_sum2(lid);
  if (lid == 0u) {
    let tot = red_f[0];
    let nd = red_u[0];
    var loss = 0.0;
    var coef = 0.0;
    if (nd > 0u && tot.z > 0.0) {
      let s = min(f32(nd) / f32(params.k_aux), 1.0);
      loss = params.alpha * s * tot.x / tot.z;
      coef = (2.0 * params.alpha * s * tot.y) / (f32(R * D) * tot.z);
    }
    scalars[0] = loss;
    scalars[1] = coef;
    scalars[2] = f32(nd);
    scalars[3] = tot.x;
    scalars[4] = tot.z;
    scalars[5] = tot.y;
    scalars[6] = 0.0;
    scalars[7] = 0.0;
  }
}

@compute @workgroup_size(WG)
fn auxk_rho(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  if (i >= params.rows * params.d_model) { return; }
  e_hat[i] = scalars[1] * (e_hat[i] - e[i]);
}

//#include "reduce2.wgsl"
