// backward_latents: sparse parameter gradients per latent, one workgroup per latent s, from its bucket of fired
// pairs (shaders/bucket.wgsl, sorted by p, so every sum has a fixed order and no float atomics are needed).
//   ∂W_dec[s, d] = scale · Σ_{p ∈ bucket s} z[p] · (x̂[r_p, d] − x[r_p, d])       (rows that fired only)
//   ∂W_enc[d, s] = Σ_{p ∈ bucket s} ∂pre[p] · (x[r_p, d] − b_dec[d])            (columns that fired only)
//   ∂b_enc[s]    = Σ_{p ∈ bucket s} ∂pre[p]
// Latents with an empty bucket get exact zeros (Adam still runs over every element).
//
// Shapes: R = rows, D = d_model, S = d_sae, k; r_p = p / k. Entry point: backward_latents.
// Override constant: WG (invocations per latent, strided over d).

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
@group(0) @binding(1) var<storage, read> x: array<f32>;                // (R, D)
@group(0) @binding(2) var<storage, read> x_hat: array<f32>;            // (R, D)
@group(0) @binding(3) var<storage, read> b_dec: array<f32>;            // (D)
@group(0) @binding(4) var<storage, read> pairs: array<f32>;            // (R, k, 2): z, ∂pre
@group(0) @binding(5) var<storage, read> buckets: array<u32>;          // (S + 1 + R·k): offsets | entries
@group(0) @binding(6) var<storage, read_write> g_w_dec: array<f32>;    // (S, D)
@group(0) @binding(7) var<storage, read_write> g_w_enc: array<f32>;    // (D, S)
@group(0) @binding(8) var<storage, read_write> g_b_enc: array<f32>;    // (S)

@compute @workgroup_size(WG)
fn backward_latents(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let s = wg.y * nwg.x + wg.x;
  let S = params.d_sae;
  if (s >= S) { return; }
  let D = params.d_model;
  let k = params.k;
  let base = S + 1u;
  let lo = base + buckets[s];
  let hi = base + buckets[s + 1u];
  for (var d = lid; d < D; d += WG) {
    var acc_dec = 0.0;
    var acc_enc = 0.0;
    let bd = b_dec[d];
    for (var e = lo; e < hi; e++) {
      let p = buckets[e];
      let i = (p / k) * D + d;
      let xv = x[i];
      acc_dec += pairs[2u * p] * (x_hat[i] - xv);
      acc_enc += pairs[2u * p + 1u] * (xv - bd);
    }
    g_w_dec[s * D + d] = acc_dec * params.scale;
    g_w_enc[d * S + s] = acc_enc;
  }
  if (lid == 0u) {
    var acc = 0.0;
    for (var e = lo; e < hi; e++) { acc += pairs[2u * buckets[e] + 1u]; }
    g_b_enc[s] = acc;
  }
}
