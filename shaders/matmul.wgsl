// matmul: C = op(A) · op(B) + bias, f32, tiled through workgroup memory with register blocking.
//
// Shapes (row-major f32):
//   op(A) [M, K]   A stored as [M, K], or as [K, M] when trans_a = 1
//   op(B) [K, N]   B stored as [K, N], or as [N, K] when trans_b = 1
//   bias  [N]      added to every row when has_bias = 1 (bind any buffer otherwise)
//   C     [M, N]
//
// A workgroup of WG×WG invocations computes a (WG·TM)×(WG·TN) block of C; each invocation owns TM×TN
// outputs strided by WG (rows lid.y + i·WG, columns lid.x + j·WG). K is walked in slices of BK through
// workgroup memory. Every output accumulates its products in increasing k, like the CPU twin
// (src/reference/matmul.ts), so the two agree to a few ulps.
// Entry point: matmul. Override constants: WG (workgroup edge; WG² ≤ maxComputeInvocationsPerWorkgroup).

const TM: u32 = 4u;
const TN: u32 = 4u;
const BK: u32 = 16u;
override WG: u32 = 16u;

//#include "matmul_block.wgsl"

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // (M, K) or (K, M)
@group(0) @binding(2) var<storage, read> b: array<f32>;        // (K, N) or (N, K)
@group(0) @binding(3) var<storage, read> bias: array<f32>;     // (N)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;  // (M, N)

var<workgroup> tile_a: array<f32, WG * TM * BK>; // (WG·TM, BK): rows of the block × k slice
var<workgroup> tile_b: array<f32, BK * WG * TN>; // (BK, WG·TN): k slice × columns of the block

fn load_a(row: u32, k: u32) -> f32 {
  if (row >= params.M || k >= params.K) { return 0.0; }
  if (params.trans_a == 1u) { return a[k * params.M + row]; }
  return a[row * params.K + k];
}

fn load_b(k: u32, col: u32) -> f32 {
  if (k >= params.K || col >= params.N) { return 0.0; }
  if (params.trans_b == 1u) { return b[col * params.K + k]; }
  return b[k * params.N + col];
}

@compute @workgroup_size(WG, WG, 1)
fn matmul(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let bm = WG * TM;
  let bn = WG * TN;
  let row_base = wg.y * bm;
  let col_base = wg.x * bn;
  let threads = WG * WG;
  var acc: array<f32, TM * TN>;
  let n_tiles = (params.K + BK - 1u) / BK;
  for (var t = 0u; t < n_tiles; t++) {
    let k0 = t * BK;
    for (var e = li; e < bm * BK; e += threads) {
      tile_a[e] = load_a(row_base + e / BK, k0 + e % BK);
    }
    for (var e = li; e < BK * bn; e += threads) {
      tile_b[e] = load_b(k0 + e / bn, col_base + e % bn);
    }
    workgroupBarrier();
    mm_slice(&acc, lid, min(BK, params.K - k0));
    workgroupBarrier();
  }
  mm_store(&acc, lid, row_base, col_base);
}
