// decode: sparse TopK decoder plus per-row reconstruction sums, one workgroup per row.
//   x̂[r, d] = Σ_j max(value[r, j], 0) · W_dec[index[r, j], d] + b_dec[d]       (Gao et al. 2024 §2.3)
// Only the k picked rows of W_dec are read per token (no dense [R, S] latent matrix).
// row_stats[r] = (Σ_d (x̂ − x)², Σ_d x², Σ_d x̂², Σ_d x·x̂), tree-reduced in workgroup memory (no atomics).
//
// Shapes: R = rows, D = d_model, S = d_sae, k. Terms are added in increasing j per (r, d), as in the CPU twin
// (src/reference/decode.ts). Entry point: decode. Override constant: WG (a power of two ≤ 256).

override WG: u32 = 64u;
const K_MAX: u32 = 256u;

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

var<workgroup> pick_row: array<u32, K_MAX>;  // index · D of each pick
var<workgroup> pick_z: array<f32, K_MAX>;    // ReLU'd value of each pick
var<workgroup> red: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn decode(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= params.rows) { return; }
  let D = params.d_model;
  let k = params.k;
  for (var j = lid; j < k; j += WG) {
    pick_row[j] = indices[row * k + j] * D;
    pick_z[j] = max(values[row * k + j], 0.0);
  }
  workgroupBarrier();
  var part = vec4<f32>(0.0);
  for (var d = lid; d < D; d += WG) {
    var acc = 0.0;
    for (var j = 0u; j < k; j++) {
      let z = pick_z[j];
      if (z != 0.0) { acc += z * w_dec[pick_row[j] + d]; }
    }
    let h = acc + b_dec[d];
    let xv = x[row * D + d];
    x_hat[row * D + d] = h;
    let e = h - xv;
    part += vec4<f32>(e * e, xv * xv, h * h, xv * h);
  }
  red[lid] = part;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let s = red[0];
    row_stats[row * 4u + 0u] = s.x;
    row_stats[row * 4u + 1u] = s.y;
    row_stats[row * 4u + 2u] = s.z;
    row_stats[row * 4u + 3u] = s.w;
  }
}
