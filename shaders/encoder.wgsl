// encoder: TopK-SAE pre-activations, b_dec subtraction and b_enc fused into one tiled matmul.
//   pre[r, s] = Σ_d (x[r, d] − b_dec[d]) · W_enc[d, s] + b_enc[s]      (Gao et al. 2024 §2.3)
//
// Shapes (row-major f32): R = rows, D = d_model, S = d_sae.
// One workgroup of WG_X×WG_Y invocations computes a (WG_Y·RM)×(WG_X·RN) block of pre; each invocation keeps an
// RM×RN register tile (rows ty + WG_Y·i, columns tx + WG_X·j). The inner dimension d is walked in slices of BK
// through workgroup memory, in increasing d, so every output is accumulated in the same order as the CPU twin
// (src/reference/encoder.ts). Entry point: encoder. Override constants: WG_X, WG_Y (WG_X·WG_Y ≤ 256 on
// SwiftShader), BK. RM and RN are `const` (they size register arrays); the host wrapper rewrites them per tile
// (4 or 8). Workgroup memory: (BM + BN)·BK floats.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
const RM: u32 = 4u;
const RN: u32 = 4u;
override BM: u32 = WG_Y * RM;
override BN: u32 = WG_X * RN;

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  d_sae: u32,    // S
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;          // (R, D)
@group(0) @binding(2) var<storage, read> w_enc: array<f32>;      // (D, S)
@group(0) @binding(3) var<storage, read> b_enc: array<f32>;      // (S)
@group(0) @binding(4) var<storage, read> b_dec: array<f32>;      // (D)
@group(0) @binding(5) var<storage, read_write> pre: array<f32>;  // (R, S)

var<workgroup> tile_x: array<f32, BM * BK>;  // [row in block][d in slice], x − b_dec
var<workgroup> tile_w: array<f32, BK * BN>;  // [d in slice][latent in block]

@compute @workgroup_size(WG_X, WG_Y, 1)
fn encoder(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  let tid = lid.y * WG_X + lid.x;
  let nthreads = WG_X * WG_Y;
  var acc: array<f32, RM * RN>;
  for (var i = 0u; i < RM * RN; i++) { acc[i] = 0.0; }
  let n_slices = (D + BK - 1u) / BK;
  for (var t = 0u; t < n_slices; t++) {
    let d0 = t * BK;
    for (var e = tid; e < BM * BK; e += nthreads) {
      let r = row0 + e / BK;
      let d = d0 + e % BK;
      var v = 0.0;
      if (r < R && d < D) { v = x[r * D + d] - b_dec[d]; }
      tile_x[e] = v;
    }
    for (var e = tid; e < BK * BN; e += nthreads) {
      let d = d0 + e / BN;
      let s = col0 + e % BN;
      var v = 0.0;
      if (d < D && s < S) { v = w_enc[d * S + s]; }
      tile_w[e] = v;
    }
    workgroupBarrier();
    let kmax = min(BK, D - d0);
    for (var kk = 0u; kk < kmax; kk++) {
      var a: array<f32, RM>;
      var b: array<f32, RN>;
      for (var i = 0u; i < RM; i++) { a[i] = tile_x[(lid.y + WG_Y * i) * BK + kk]; }
      for (var j = 0u; j < RN; j++) { b[j] = tile_w[kk * BN + lid.x + WG_X * j]; }
      for (var i = 0u; i < RM; i++) {
        for (var j = 0u; j < RN; j++) { acc[i * RN + j] += a[i] * b[j]; }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < RM; i++) {
    let r = row0 + lid.y + WG_Y * i;
    if (r >= R) { continue; }
    for (var j = 0u; j < RN; j++) {
      let s = col0 + lid.x + WG_X * j;
      if (s < S) { pre[r * S + s] = acc[i * RN + j] + b_enc[s]; }
    }
  }
}

// encoder_direct: the same product without workgroup memory or barriers; each invocation reads its RM rows of
// x and RN columns of W_enc straight from storage (relies on caches; faster on CPU adapters such as SwiftShader
// where barriers are expensive). Same d order, so the same results as `encoder`.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn encoder_direct(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  let row0 = wg.y * BM + lid.y;
  let col0 = wg.x * BN + lid.x;
  var acc: array<f32, RM * RN>;
  for (var i = 0u; i < RM * RN; i++) { acc[i] = 0.0; }
  var rows: array<u32, RM>;
  var cols: array<u32, RN>;
  for (var i = 0u; i < RM; i++) { rows[i] = min(row0 + WG_Y * i, R - 1u); }
  for (var j = 0u; j < RN; j++) { cols[j] = min(col0 + WG_X * j, S - 1u); }
  for (var d = 0u; d < D; d++) {
    let bd = b_dec[d];
    var a: array<f32, RM>;
    var b: array<f32, RN>;
    for (var i = 0u; i < RM; i++) { a[i] = x[rows[i] * D + d] - bd; }
    for (var j = 0u; j < RN; j++) { b[j] = w_enc[d * S + cols[j]]; }
    for (var i = 0u; i < RM; i++) {
      for (var j = 0u; j < RN; j++) { acc[i * RN + j] += a[i] * b[j]; }
    }
  }
  for (var i = 0u; i < RM; i++) {
    let r = row0 + WG_Y * i;
    if (r >= R) { continue; }
    for (var j = 0u; j < RN; j++) {
      let s = col0 + WG_X * j;
      if (s < S) { pre[r * S + s] = acc[i * RN + j] + b_enc[s]; }
    }
  }
}
