// matmul: C = op(A) · op(B) + bias, tiled through workgroup memory.
//
// Shapes (row-major f32):
//   op(A) [M, K]   A stored as [M, K], or as [K, M] when trans_a = 1
//   op(B) [K, N]   B stored as [K, N], or as [N, K] when trans_b = 1
//   bias  [N]      added to every row when has_bias = 1 (bind any buffer otherwise)
//   C     [M, N]
//
// One workgroup computes a TILE×TILE block of C; one invocation computes one element.
// Entry point: matmul. Override constants: TILE (workgroup is TILE×TILE, TILE² ≤ 256 on SwiftShader).

override TILE: u32 = 16u;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  has_bias: u32,
  trans_a: u32,
  trans_b: u32,
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // (M, K) or (K, M)
@group(0) @binding(2) var<storage, read> b: array<f32>;        // (K, N) or (N, K)
@group(0) @binding(3) var<storage, read> bias: array<f32>;     // (N)
@group(0) @binding(4) var<storage, read_write> c: array<f32>;  // (M, N)

var<workgroup> tile_a: array<f32, TILE * TILE>; // [row in block][k in tile]
var<workgroup> tile_b: array<f32, TILE * TILE>; // [k in tile][col in block]

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

@compute @workgroup_size(TILE, TILE, 1)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wg.y * TILE + lid.y;
  let col = wg.x * TILE + lid.x;
  var acc = 0.0;
  let n_tiles = (params.K + TILE - 1u) / TILE;
  for (var t = 0u; t < n_tiles; t++) {
    let k0 = t * TILE;
    tile_a[lid.y * TILE + lid.x] = load_a(row, k0 + lid.x);
    tile_b[lid.y * TILE + lid.x] = load_b(k0 + lid.y, col);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += tile_a[lid.y * TILE + kk] * tile_b[kk * TILE + lid.x];
    }
    workgroupBarrier();
  }
  if (row < params.M && col < params.N) {
    if (params.has_bias == 1u) { acc += bias[col]; }
    c[row * params.N + col] = acc;
  }
}
