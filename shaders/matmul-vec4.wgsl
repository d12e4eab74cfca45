// matmul-vec4: C = op(A) · op(B) + bias of shaders/matmul.wgsl, loading A and B from storage as vec4<f32>.
//
// Shapes (row-major f32; A and B bound as vec4<f32> arrays, so their contiguous dimension must be a multiple of 4 —
// the host wrapper, src/gpu/kernels/matmul.ts, picks the scalar shader otherwise):
//   op(A) [M, K]   A stored as [M, K] (needs K % 4 = 0), or as [K, M] when trans_a = 1 (needs M % 4 = 0)
//   op(B) [K, N]   B stored as [K, N] (needs N % 4 = 0), or as [N, K] when trans_b = 1 (needs K % 4 = 0)
//   bias  [N]      added to every row when has_bias = 1 (bind any buffer otherwise)
//   C     [M, N]
//
// A workgroup of WG×WG invocations computes a (WG·TM)×(WG·TN) block of C; each invocation owns TM×TN outputs
// strided by WG. K is walked in slices of BK: each slice of A and B is copied into workgroup memory with one vec4
// load per 4 floats, then every output accumulates its products in increasing k, like the CPU twin
// (src/reference/matmul.ts), so the two agree to a few ulps.
// Entry point: matmul_vec4. Override constants: WG (WG² ≤ maxComputeInvocationsPerWorkgroup), BK (multiple of 4).
// TM and TN are `const` (they size register arrays; multiples of 4); the wrapper rewrites them per tile.
// Workgroup memory: WG·(TM + TN)·BK floats.

const TM: u32 = 4u;
const TN: u32 = 4u;
override BK: u32 = 16u;
override WG: u32 = 16u;

//#include "matmul_block.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;  // (M, K/4) or (K, M/4)
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;  // (K, N/4) or (N, K/4)
@group(0) @binding(3) var<storage, read> bias: array<f32>;     // (N)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;  // (M, N)

var<workgroup> tile_a: array<f32, WG * TM * BK>; // (WG·TM, BK): rows of the block × k slice
var<workgroup> tile_b: array<f32, BK * WG * TN>; // (BK, WG·TN): k slice × columns of the block

@compute @workgroup_size(WG, WG, 1)
fn matmul_vec4(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let M = params.M;
  let N = params.N;
  let K = params.K;
  let bm = WG * TM;
  let bn = WG * TN;
  let row_base = wg.y * bm;
  let col_base = wg.x * bn;
  let threads = WG * WG;
  let bkv = BK / 4u;
  var acc: array<f32, TM * TN>;
  let n_tiles = (K + BK - 1u) / BK;
  for (var t = 0u; t < n_tiles; t++) {
    let k0 = t * BK;
    // A slice → tile_a[row][kk], one vec4 per 4 floats along A's contiguous dimension.
    for (var e = li; e < bm * bkv; e += threads) {
      if (params.trans_a == 1u) {
        let kk = e / (bm / 4u);
        let mv = e % (bm / 4u);
        let k = k0 + kk;
        let row = row_base + 4u * mv;
        var v = vec4<f32>(0.0);
        if (k < K && row < M) { v = a[k * (M / 4u) + row / 4u]; }
        for (var q = 0u; q < 4u; q++) { tile_a[(4u * mv + q) * BK + kk] = v[q]; }
      } else {
        let r = e / bkv;
        let kv = e % bkv;
        let row = row_base + r;
        let k = k0 + 4u * kv;
        var v = vec4<f32>(0.0);
        if (row < M && k < K) { v = a[row * (K / 4u) + k / 4u]; }
        for (var q = 0u; q < 4u; q++) { tile_a[r * BK + 4u * kv + q] = v[q]; }
      }
    }
    // B slice → tile_b[kk][col].
    for (var e = li; e < bn * bkv; e += threads) {
      if (params.trans_b == 1u) {
        let n = e / bkv;
        let kv = e % bkv;
        let col = col_base + n;
        let k = k0 + 4u * kv;
        var v = vec4<f32>(0.0);
        if (col < N && k < K) { v = b[col * (K / 4u) + k / 4u]; }
        for (var q = 0u; q < 4u; q++) { tile_b[(4u * kv + q) * bn + n] = v[q]; }
      } else {
        let kk = e / (bn / 4u);
        let nv = e % (bn / 4u);
        let k = k0 + kk;
        let col = col_base + 4u * nv;
        var v = vec4<f32>(0.0);
        if (k < K && col < N) { v = b[k * (N / 4u) + col / 4u]; }
        for (var q = 0u; q < 4u; q++) { tile_b[kk * bn + 4u * nv + q] = v[q]; }
      }
    }
    workgroupBarrier();
    mm_slice(&acc, lid, min(BK, params.K - k0));
    workgroupBarrier();
  }
  mm_store(&acc, lid, row_base, col_base);
}
