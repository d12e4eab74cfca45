// encoder-vec4: the fused TopK-SAE encoder of shaders/encoder.wgsl with vec4<f32> loads and stores.
//   pre[r, s] = Σ_d (x[r, d] − b_dec[d]) · W_enc[d, s] + b_enc[s]      (Gao et al. 2024 §2.3)
//
// Shapes (row-major f32, bound as vec4<f32> arrays): R = rows, D = d_model, S = d_sae; needs D % 4 = 0 and
// S % 4 = 0 (the host wrapper, src/gpu/kernels/encoder.ts, picks the scalar shader otherwise). D4 = D/4, S4 = S/4.
// Each invocation owns an RM × RN register block: rows ty + WG_Y·i (i < RM), and NV = RN/4 groups of 4 adjacent
// latents, group tx + WG_X·j (j < NV). A workgroup computes (WG_Y·RM) × (WG_X·RN) outputs. Every output still sums
// its products one d at a time, in increasing d, like the CPU twin (src/reference/encoder.ts): a vec4 of x covers
// d..d+3 and its components are consumed in that order.
// Entry points: encoder_vec4 (x and W_enc slices of BK staged through workgroup memory), encoder_vec4_direct (no
// workgroup memory or barriers; reads storage directly — faster on CPU adapters such as SwiftShader).
// Override constants: WG_X, WG_Y (WG_X·WG_Y ≤ maxComputeInvocationsPerWorkgroup), BK (multiple of 4).
// RM and RN are `const` (they size register arrays); the wrapper rewrites them per tile (4 or 8; RN a multiple of 4).
// Workgroup memory (encoder_vec4): (BM + BN)·BK floats, BM = WG_Y·RM, BN = WG_X·RN.

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;
const RM: u32 = 4u;
const RN: u32 = 4u;
const NV: u32 = RN / 4u;
override BM: u32 = WG_Y * RM;
override BNV: u32 = WG_X * NV;  // block width in vec4 groups
override BKV: u32 = BK / 4u;    // slice depth in vec4 groups of d

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  d_sae: u32,    // S
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;          // (R, D4)
@group(0) @binding(2) var<storage, read> w_enc: array<vec4<f32>>;      // (D, S4)
@group(0) @binding(3) var<storage, read> b_enc: array<vec4<f32>>;      // (S4)
@group(0) @binding(4) var<storage, read> b_dec: array<vec4<f32>>;      // (D4)
@group(0) @binding(5) var<storage, read_write> pre: array<vec4<f32>>;  // (R, S4)

var<workgroup> tile_x: array<vec4<f32>, BM * BKV>;  // [row in block][d/4 in slice], x − b_dec
var<workgroup> tile_w: array<vec4<f32>, BK * BNV>;  // [d in slice][latent/4 in block]

@compute @workgroup_size(WG_X, WG_Y, 1)
fn encoder_vec4(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let R = params.rows;
  let D4 = params.d_model / 4u;
  let S4 = params.d_sae / 4u;
  let row0 = wg.y * BM;
  let colv0 = wg.x * BNV;
  let tid = lid.y * WG_X + lid.x;
  let nthreads = WG_X * WG_Y;
  var acc: array<vec4<f32>, RM * NV>;
  for (var i = 0u; i < RM * NV; i++) { acc[i] = vec4<f32>(0.0); }
  let n_slices = (D4 + BKV - 1u) / BKV;
  for (var t = 0u; t < n_slices; t++) {
    let dv0 = t * BKV;
    for (var e = tid; e < BM * BKV; e += nthreads) {
      let r = row0 + e / BKV;
      let dv = dv0 + e % BKV;
      var v = vec4<f32>(0.0);
      if (r < R && dv < D4) { v = x[r * D4 + dv] - b_dec[dv]; }
      tile_x[e] = v;
    }
    for (var e = tid; e < BK * BNV; e += nthreads) {
      let d = dv0 * 4u + e / BNV;
      let sv = colv0 + e % BNV;
      var v = vec4<f32>(0.0);
      if (d < D4 * 4u && sv < S4) { v = w_enc[d * S4 + sv]; }
      tile_w[e] = v;
    }
    workgroupBarrier();
    let kvmax = min(BKV, D4 - dv0);
    for (var kv = 0u; kv < kvmax; kv++) {
      var a: array<vec4<f32>, RM>;
      for (var i = 0u; i < RM; i++) { a[i] = tile_x[(lid.y + WG_Y * i) * BKV + kv]; }
      for (var c = 0u; c < 4u; c++) {
        let k = kv * 4u + c;
        for (var j = 0u; j < NV; j++) {
          let b = tile_w[k * BNV + lid.x + WG_X * j];
          for (var i = 0u; i < RM; i++) { acc[i * NV + j] += a[i][c] * b; }
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < RM; i++) {
    let r = row0 + lid.y + WG_Y * i;
    if (r >= R) { continue; }
    for (var j = 0u; j < NV; j++) {
      let sv = colv0 + lid.x + WG_X * j;
      if (sv < S4) { pre[r * S4 + sv] = acc[i * NV + j] + b_enc[sv]; }
    }
  }
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn encoder_vec4_direct(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let R = params.rows;
  let D4 = params.d_model / 4u;
  let S4 = params.d_sae / 4u;
  let row0 = wg.y * BM + lid.y;
  let colv0 = wg.x * BNV + lid.x;
  var acc: array<vec4<f32>, RM * NV>;
  for (var i = 0u; i < RM * NV; i++) { acc[i] = vec4<f32>(0.0); }
  var rows: array<u32, RM>;
  var cols: array<u32, NV>;
  for (var i = 0u; i < RM; i++) { rows[i] = min(row0 + WG_Y * i, R - 1u); }
  for (var j = 0u; j < NV; j++) { cols[j] = min(colv0 + WG_X * j, S4 - 1u); }
  for (var dv = 0u; dv < D4; dv++) {
    let bd = b_dec[dv];
    var a: array<vec4<f32>, RM>;
    for (var i = 0u; i < RM; i++) { a[i] = x[rows[i] * D4 + dv] - bd; }
    for (var c = 0u; c < 4u; c++) {
      let w_row = (dv * 4u + c) * S4;
      for (var j = 0u; j < NV; j++) {
        let b = w_enc[w_row + cols[j]];
        for (var i = 0u; i < RM; i++) { acc[i * NV + j] += a[i][c] * b; }
      }
    }
  }
  for (var i = 0u; i < RM; i++) {
    let r = row0 + WG_Y * i;
    if (r >= R) { continue; }
    for (var j = 0u; j < NV; j++) {
      let sv = colv0 + WG_X * j;
      if (sv < S4) { pre[r * S4 + sv] = acc[i * NV + j] + b_enc[sv]; }
    }
  }
}
