// decode: sparse TopK decoder plus per-row reconstruction sums, without workgroup memory or barriers.
//   decode:           x̂[r, d] = Σ_j max(value[r, j], 0) · W_dec[index[r, j], d] + b_dec[d]   one invocation per (r, d)
//   decode_row_stats: row_stats[r] = (Σ_d (x̂ − x)², Σ_d x², Σ_d x̂², Σ_d x·x̂)                  one invocation per row
// (Gao et al. 2024 §2.3.) Only the k picked rows of W_dec are read per token (no dense [R, S] latent matrix).
// Terms are added in increasing j per (r, d), then b_dec, as in the CPU twin (src/reference/decode.ts); the
// row sums run over d in increasing order.
//
// Shapes: R = rows, D = d_model, S = d_sae, k. Entry points: decode, decode_row_stats (one binding layout).
// Override constant: WG.

override WG: u32 = 64u;

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  d_sae: u32,    // S
  k: u32,        // k
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                // (R, D)
@group(0) @binding(2) var<storage, read> indices: array<u32>;          // (R, k)
@group(0) @binding(3) var<storage, read> values: array<f32>;           // (R, k) raw pre-activations
@group(0) @binding(4) var<storage, read> w_dec: array<f32>;            // (S, D)
@group(0) @binding(5) var<storage, read> b_dec: array<f32>;            // (D)
@group(0) @binding(6) var<storage, read_write> x_hat: array<f32>;      // (R, D)
@group(0) @binding(7) var<storage, read_write> row_stats: array<f32>;  // (R, 4)

//#include "linear_id.wgsl"

@compute @workgroup_size(WG)
fn decode(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  let D = params.d_model;
  if (i >= params.rows * D) { return; }
  let r = i / D;
  let d = i - r * D;
  let k = params.k;
  var acc = 0.0;
  for (var j = 0u; j < k; j++) {
    let z = max(values[r * k + j], 0.0);
    if (z != 0.0) { acc += z * w_dec[indices[r * k + j] * D + d]; }
  }
  x_hat[i] = acc + b_dec[d];
}

@compute @workgroup_size(WG)
fn decode_row_stats(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let r = linear_id(wg, nwg, lid);
  if (r >= params.rows) { return; }
  let D = params.d_model;
  var s = vec4<f32>(0.0);
  for (var d = 0u; d < D; d++) {
    let xv = x[r * D + d];
    let h = x_hat[r * D + d];
    let e = h - xv;
    s += vec4<f32>(e * e, xv * xv, h * h, xv * h);
  }
  row_stats[r * 4u + 0u] = s.x;
  row_stats[r * 4u + 1u] = s.y;
  row_stats[r * 4u + 2u] = s.z;
  row_stats[r * 4u + 3u] = s.w;
}
