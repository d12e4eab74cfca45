// auxk_latents: the per-latent AuxK gradients (shaders/auxk.wgsl has the whole pipeline; CPU twin
// src/reference/auxk.ts), one workgroup per latent s with a non-empty aux bucket (shaders/bucket.wgsl, sorted by
// pair index p, so every sum has a fixed order and no float atomics are needed):
//   ∂W_dec[s, d] += Σ_{p ∈ bucket s} z_p · ρ[r_p, d]
//   ∂W_enc[d, s] += Σ_{p ∈ bucket s} ∂pre_p · (x[r_p, d] − b_dec[d])
//   ∂b_enc[s]    += Σ_{p ∈ bucket s} ∂pre_p
// Each sum starts at 0 and is added to the main gradient once. Latents with an empty bucket are left untouched.
// Shapes: R = rows, D = d_model, S = d_sae, k_aux; r_p = p / k_aux. Entry point: auxk_latents.
// Override constant: WG (invocations per latent, strided over d).

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
@group(0) @binding(1) var<storage, read> x: array<f32>;                // (R, D)
@group(0) @binding(2) var<storage, read> rho: array<f32>;              // (R, D)
@group(0) @binding(3) var<storage, read> b_dec: array<f32>;            // (D)
@group(0) @binding(4) var<storage, read> pairs: array<f32>;            // (R, k_aux, 2): z, ∂pre
@group(0) @binding(5) var<storage, read> buckets: array<u32>;          // (S + 1 + R·k_aux): offsets | entries
@group(0) @binding(6) var<storage, read_write> g_w_dec: array<f32>;    // (S, D)
@group(0) @binding(7) var<storage, read_write> g_w_enc: array<f32>;    // (D, S)
@group(0) @binding(8) var<storage, read_write> g_b_enc: array<f32>;    // (S)

@compute @workgroup_size(WG)
fn auxk_latents(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let s = wg.y * nwg.x + wg.x;
  let S = params.d_sae;
  if (s >= S) { return; }
  let D = params.d_model;
  let k = params.k_aux;
  let base = S + 1u;
  let lo = base + buckets[s];
  let hi = base + buckets[s + 1u];
  if (lo == hi) { return; }
  for (var d = lid; d < D; d += WG) {
    var acc_dec = 0.0;
    var acc_enc = 0.0;
    let bd = b_dec[d];
    for (var e = lo; e < hi; e++) {
      let p = buckets[e];
      let i = (p / k) * D + d;
      acc_dec += pairs[2u * p] * rho[i];
      acc_enc += pairs[2u * p + 1u] * (x[i] - bd);
    }
    g_w_dec[s * D + d] = g_w_dec[s * D + d] + acc_dec;
    g_w_enc[d * S + s] = g_w_enc[d * S + s] + acc_enc;
  }
  if (lid == 0u) {
    var acc = 0.0;
    for (var e = lo; e < hi; e++) { acc += pairs[2u * buckets[e] + 1u]; }
    g_b_enc[s] = g_b_enc[s] + acc;
  }
}
