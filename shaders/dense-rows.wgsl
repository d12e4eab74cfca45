// dense_rows: per-row work after a dense decode x̂ = z·W_dec + b_dec (shaders/matmul.wgsl), one workgroup per row:
//   row_stats[r] = (Σ_d (x̂ − x)², Σ_d x², Σ_d x̂², Σ_d x·x̂)     tree-reduced as shaders/decode.wgsl
//   g[r, d]      = scale·(x̂ − x)                                ∂L/∂x̂, scale = 2/(R·D)
//   xc[r, d]     = x − b_dec                                    the encoder input, for ∂W_enc = xcᵀ·∂pre
// CPU twin: src/reference/dense.ts (denseRowsCpu).
//
// Shapes: R = rows, D = d_model. Entry point: dense_rows. Override constant: WG (a power of two ≤ 256).

override WG: u32 = 64u;

struct Params {
  rows: u32,     // R
  d_model: u32,  // D
  scale: f32,    // 2 / (R·D)
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                // (R, D)
@group(0) @binding(2) var<storage, read> x_hat: array<f32>;            // (R, D)
@group(0) @binding(3) var<storage, read> b_dec: array<f32>;            // (D)
@group(0) @binding(4) var<storage, read_write> row_stats: array<f32>;  // (R, 4)
@group(0) @binding(5) var<storage, read_write> g: array<f32>;          // (R, D)
@group(0) @binding(6) var<storage, read_write> xc: array<f32>;         // (R, D)

var<workgroup> red: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn dense_rows(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= params.rows) { return; }
  let D = params.d_model;
  var part = vec4<f32>(0.0);
  for (var d = lid; d < D; d += WG) {
    let i = row * D + d;
    let h = x_hat[i];
    let xv = x[i];
    let e = h - xv;
    g[i] = e * params.scale;
    xc[i] = xv - b_dec[d];
    part += vec4<f32>(e * e, xv * xv, h * h, xv * h);
  }
  red[lid] = part;
  workgroup_sum(lid);
  if (lid == 0u) {
    let s = red[0];
    row_stats[row * 4u + 0u] = s.x;
    row_stats[row * 4u + 1u] = s.y;
    row_stats[row * 4u + 2u] = s.z;
    row_stats[row * 4u + 3u] = s.w;
  }
}

//#include "reduce.wgsl"
