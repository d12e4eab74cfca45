// attention: causal grouped-query attention over a whole sequence (prefill).
//   out[t, h·hs + i] = Σ_{s ≤ t} softmax_s(q[t, h]·k[s, g] / √hs) · v[s, g, i],   g = h / (Hq / Hkv)
// q (T, Hq·hs); k, v (T, Hkv·hs); out (T, Hq·hs). One invocation per (t, h): a pass for the max score, a pass
// for the normaliser and the weighted sum of v (the causal mask is the loop bound s ≤ t). hs ≤ MAX_HS.
// Entry point: attention. Override constants: WG.
// CPU twin: src/lm/forward-cpu.ts attentionCpu.

override WG: u32 = 64u;
const MAX_HS: u32 = 256u;

struct Params {
  T: u32,
  n_heads: u32,
  n_kv_heads: u32,
  hs: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;          // (T, Hq·hs)
@group(0) @binding(2) var<storage, read> k: array<f32>;          // (T, Hkv·hs)
@group(0) @binding(3) var<storage, read> v: array<f32>;          // (T, Hkv·hs)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (T, Hq·hs)

//#include "linear_id.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn attention(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let idx = linear_id(wg, nwg, lid);
  let H = params.n_heads;
  if (idx >= params.T * H) { return; }
  let t = idx / H;
  let h = idx % H;
  let hs = params.hs;
  let g = h / (H / params.n_kv_heads);
  let D = H * hs;
  let Dkv = params.n_kv_heads * hs;
  let scale = 1.0 / sqrt(f32(hs));
  let qo = t * D + h * hs;
  var mx = -3.4e38;
  for (var s = 0u; s <= t; s++) {
    var d = 0.0;
    for (var i = 0u; i < hs; i++) { d += q[qo + i] * k[s * Dkv + g * hs + i]; }
    mx = max(mx, d * scale);
  }
  var acc: array<f32, MAX_HS>;
  for (var i = 0u; i < hs; i++) { acc[i] = 0.0; }
  var sum = 0.0;
  for (var s = 0u; s <= t; s++) {
    var d = 0.0;
    for (var i = 0u; i < hs; i++) { d += q[qo + i] * k[s * Dkv + g * hs + i]; }
    let w = exp(d * scale - mx);
    sum += w;
    for (var i = 0u; i < hs; i++) { acc[i] += w * v[s * Dkv + g * hs + i]; }
  }
  for (var i = 0u; i < hs; i++) { out[qo + i] = acc[i] / sum; }
}
