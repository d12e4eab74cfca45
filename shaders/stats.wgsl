// stats: the raw sums of one training step and the dead-latent counters, one workgroup (fixed reduction order,
// no float atomics). CPU twin: src/reference/stats.ts.
//   sse   = Σ_r row_stats[r].sse                     (Σ ‖x − x̂‖², before the update)
//   sst   = Σ_d Σ_r (x[r, d] − mean_r x[·, d])²       (about the batch mean; two passes per column)
//   l0    = Σ_s fire_counts[s];  fired = #{s : fire_counts[s] > 0}
//   steps_since_fired[s] ← 0 if fired else min(+1, 2³²−1);  dead = #{s : steps_since_fired[s] ≥ dead_window}
// out = [sse (f32 bits), sst (f32 bits), l0, fired, dead, 0, 0, ·] as u32; word 7 is the sticky non-finite flag of
// shaders/nonfinite.wgsl and is left as it is.
//
// Shapes: R = rows, D = d_model, S = d_sae. Entry point: stats. Override constant: WG (a power of two).
// Subgroup variant (src/gpu/kernels/stats.ts, `subgroups`): include/reduce2-sg.wgsl replaces reduce2.wgsl.

override WG: u32 = 256u;

struct Params {
  rows: u32,         // R
  d_model: u32,      // D
  d_sae: u32,        // S
  dead_window: u32,  // steps without firing after which a latent counts as dead
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;                        // (R, D)
@group(0) @binding(2) var<storage, read> row_stats: array<f32>;                // (R, 4)
@group(0) @binding(3) var<storage, read> fire_counts: array<u32>;              // (S)
@group(0) @binding(4) var<storage, read_write> steps_since_fired: array<u32>;  // (S)
@group(0) @binding(5) var<storage, read_write> out: array<u32>;                // (8)

alias RedF = vec2<f32>;
alias RedU = vec3<u32>;
var<workgroup> red_f: array<RedF, WG>;
var<workgroup> red_u: array<RedU, WG>;

@compute @workgroup_size(WG)
fn stats(ids: ReduceIds) {
  let lid = ids.lid;
  let R = params.rows;
  let D = params.d_model;
  let S = params.d_sae;
  var sse = 0.0;
  for (var r = lid; r < R; r += WG) { sse += row_stats[r * 4u]; }
  var sst = 0.0;
  for (var d = lid; d < D; d += WG) {
    var sum = 0.0;
    for (var r = 0u; r < R; r++) { sum += x[r * D + d]; }
    let mean = sum / f32(R);
    for (var r = 0u; r < R; r++) {
      let e = x[r * D + d] - mean;
      sst += e * e;
    }
  }
  var l0 = 0u;
  var fired = 0u;
  var dead = 0u;
  for (var s = lid; s < S; s += WG) {
    let c = fire_counts[s];
    l0 += c;
    var t = steps_since_fired[s];
    if (c > 0u) {
      fired += 1u;
      t = 0u;
    } else if (t < 0xffffffffu) {
      t += 1u;
    }
    steps_since_fired[s] = t;
    if (t >= params.dead_window) { dead += 1u; }
  }
  red_f[lid] = vec2<f32>(sse, sst);
  red_u[lid] = vec3<u32>(l0, fired, dead);
  workgroup_reduce2(ids);
  if (lid == 0u) {
    out[0] = bitcast<u32>(red_f[0].x);
    out[1] = bitcast<u32>(red_f[0].y);
    out[2] = red_u[0].x;
    out[3] = red_u[0].y;
    out[4] = red_u[0].z;
    out[5] = 0u;
    out[6] = 0u;
  }
}

//#include "reduce2.wgsl"
