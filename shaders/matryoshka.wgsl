// matryoshka: the nested-prefix part of the Matryoshka BatchTopK loss (Bussmann et al. 2025) on dense latents z
// (BatchTopK's selection). Prefix m is latents [0, e_m); e_{M−1} = S; grp(s) = the first m with s < e_m.
//   matryoshka_residual    one invocation per (r, d):  x̂_m = b_dec + Σ_{s<e_m} z·W_dec (s increasing, z = 0 skipped),
//                          x_hat = x̂_{M−1};  G[m, r, d] = scale·Σ_{m'≥m} (x̂_m' − x)  (summed from the last prefix down)
//   matryoshka_grad_z      one invocation per (r, s):  ∂z = ⟨G[grp(s), r], W_dec[s]⟩ where z ≠ 0, else 0
//   matryoshka_grad_w_dec  one invocation per (s, d):  ∂W_dec = Σ_r z[r, s]·G[grp(s), r, d] (r increasing)
//   matryoshka_grad_b_dec  one invocation per d:       ∂b_dec = Σ_r G[0, r, d] − Σ_s W_enc[d, s]·∂b_enc[s]
// CPU twin: src/reference/matryoshka.ts. Host wrapper: src/gpu/kernels/matryoshka.ts.
//
// Shapes: R = rows, D = d_model, S = d_sae, M ≤ 8 prefixes. The four entry points share one binding layout of
// generic slots (in0…in3 read, out0/out1 written); each names what it binds there. Override constant: WG.

override WG: u32 = 64u;

struct Params {
  rows: u32,                    // R
  d_model: u32,                 // D
  d_sae: u32,                   // S
  n_groups: u32,                // M
  scale: f32,                   // 2 / (R·D)
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
  ends: array<vec4<u32>, 2>,    // e_0 … e_{M−1}
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> in0: array<f32>;         // residual: x (R, D); others: G (M, R, D)
@group(0) @binding(2) var<storage, read> in1: array<f32>;         // z (R, S); grad_b_dec: W_enc (D, S)
@group(0) @binding(3) var<storage, read> in2: array<f32>;         // W_dec (S, D); grad_b_dec: ∂b_enc (S)
@group(0) @binding(4) var<storage, read> in3: array<f32>;         // residual: b_dec (D)
@group(0) @binding(5) var<storage, read_write> out0: array<f32>;  // x_hat (R, D) | ∂z (R, S) | ∂W_dec (S, D) | ∂b_dec (D)
@group(0) @binding(6) var<storage, read_write> out1: array<f32>;  // residual: G (M, R, D)

fn prefix_end(m: u32) -> u32 {
  return params.ends[m / 4u][m % 4u];
}

// Offset of row r of plane m of G (M, R, D).
fn g_row(m: u32, r: u32) -> u32 {
  return (m * params.rows + r) * params.d_model;
}

fn group_of(s: u32) -> u32 {
  var m = 0u;
  loop {
    if (m + 1u >= params.n_groups || s < prefix_end(m)) { break; }
    m += 1u;
  }
  return m;
}

@compute @workgroup_size(WG)
fn matryoshka_residual(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                       @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  let M = params.n_groups;
  if (i >= R * D) { return; }
  let r = i / D;
  let d = i % D;
  var res: array<f32, 8>;
  var acc = 0.0;
  var xm = 0.0;
  var s = 0u;
  for (var m = 0u; m < M; m++) {
    let e = prefix_end(m);
    for (; s < e; s++) {
      let zv = in1[r * S + s];
      if (zv != 0.0) { acc = acc + zv * in2[s * D + d]; }
    }
    xm = acc + in3[d];
    res[m] = xm - in0[i];
  }
  out0[i] = xm;
  var tail = 0.0;
  for (var j = 0u; j < M; j++) {
    let m = M - 1u - j;
    tail = tail + res[m];
    out1[g_row(m, r) + d] = tail * params.scale;
  }
}

@compute @workgroup_size(WG)
fn matryoshka_grad_z(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  if (i >= R * S) { return; }
  if (in1[i] == 0.0) {
    out0[i] = 0.0;
    return;
  }
  let r = i / S;
  let s = i % S;
  let g0 = g_row(group_of(s), r);
  var dot = 0.0;
  for (var d = 0u; d < D; d++) { dot = dot + in0[g0 + d] * in2[s * D + d]; }
  out0[i] = dot;
}

@compute @workgroup_size(WG)
fn matryoshka_grad_w_dec(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  if (i >= S * D) { return; }
  let s = i / D;
  let d = i % D;
  let m = group_of(s);
  var acc = 0.0;
  for (var r = 0u; r < R; r++) {
    let zv = in1[r * S + s];
    if (zv != 0.0) { acc = acc + zv * in0[g_row(m, r) + d]; }
  }
  out0[i] = acc;
}

@compute @workgroup_size(WG)
fn matryoshka_grad_b_dec(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                         @builtin(local_invocation_index) lid: u32) {
  let d = linear_id(wg, nwg, lid);
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  if (d >= D) { return; }
  var dec = 0.0;
  for (var r = 0u; r < R; r++) { dec = dec + in0[r * D + d]; }
  var enc = 0.0;
  for (var s = 0u; s < S; s++) { enc = enc + in1[d * S + s] * in2[s]; }
  out0[d] = dec - enc;
}

//#include "linear_id.wgsl"
