// eval_reduce: per-chunk sums of a forward-only evaluation, one workgroup (fixed order, no float atomics).
//   chunk_sums[chunk] = (Σ_r sse_r, Σ_r cos(x_r, x̂_r), Σ_r ‖x_r − x̂_r‖/‖x_r‖, 0)
//   fire_total[s] += counts[s];  counts[s] ← 0  (counts come from bucket_count of shaders/bucket.wgsl)
// cos is 0 when ‖x‖·‖x̂‖ = 0 and the relative error is 0 when ‖x‖ = 0, as in src/reference/sae-engine.ts.
// The chunk sums are combined in float64 on the host; L0 is Σ_s fire_total[s] (exact integers).
//
// Shapes: R = rows in this chunk, S = d_sae. Entry point: eval_reduce. Override constant: WG (a power of two).
// Subgroup variant (src/gpu/kernels/eval.ts, `subgroups`): include/reduce-sg.wgsl replaces reduce.wgsl.

override WG: u32 = 256u;

struct Params {
  rows: u32,   // R
  d_sae: u32,  // S
  chunk: u32,  // slot in chunk_sums
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> row_stats: array<f32>;          // (R, 4): sse, xx, hh, xh
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;       // (S), zeroed here
@group(0) @binding(3) var<storage, read_write> fire_total: array<u32>;   // (S)
@group(0) @binding(4) var<storage, read_write> chunk_sums: array<f32>;   // (chunks, 4)

alias RedT = vec4<f32>;
var<workgroup> red: array<RedT, WG>;

@compute @workgroup_size(WG)
fn eval_reduce(ids: ReduceIds) {
  let lid = ids.lid;
  var part = vec4<f32>(0.0);
  for (var r = lid; r < params.rows; r += WG) {
    let sse = row_stats[r * 4u];
    let xx = row_stats[r * 4u + 1u];
    let hh = row_stats[r * 4u + 2u];
    let xh = row_stats[r * 4u + 3u];
    let nn = sqrt(xx) * sqrt(hh);
    var c = 0.0;
    if (nn > 0.0) { c = xh / nn; }
    var rel = 0.0;
    if (xx > 0.0) { rel = sqrt(sse) / sqrt(xx); }
    part += vec4<f32>(sse, c, rel, 0.0);
  }
  for (var s = lid; s < params.d_sae; s += WG) {
    fire_total[s] += counts[s];
    counts[s] = 0u;
  }
  red[lid] = part;
  workgroup_reduce(ids);
  if (lid == 0u) {
    let o = params.chunk * 4u;
    chunk_sums[o] = red[0].x;
    chunk_sums[o + 1u] = red[0].y;
    chunk_sums[o + 2u] = red[0].z;
    chunk_sums[o + 3u] = red[0].w;
  }
}

//#include "reduce.wgsl"
