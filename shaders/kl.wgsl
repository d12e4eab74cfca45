// kl: per row t of two log-prob tables (T, V): kl[t] = Σ_v exp(logp[t, v]) · (logp[t, v] − logq[t, v]),
// i.e. KL(P ‖ Q) of the clean (P) and patched (Q) next-token distributions. One workgroup per row, tree reduction.
// Entry point: kl. Override constants: WG (a power of two).
// CPU twin: src/lm/forward-cpu.ts tokenKlCpu.

override WG: u32 = 64u;

struct Params {
  T: u32,
  V: u32,
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logp: array<f32>;      // (T, V)
@group(0) @binding(2) var<storage, read> logq: array<f32>;      // (T, V)
@group(0) @binding(3) var<storage, read_write> out: array<f32>; // (T)

var<workgroup> red: array<f32, WG>;

//#include "linear_id.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn kl(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
      @builtin(local_invocation_index) li: u32) {
  let t = workgroup_linear_id(wg, nwg);
  if (t >= params.T) { return; }
  let base = t * params.V;
  var s = 0.0;
  for (var v = li; v < params.V; v += WG) {
    let lp = logp[base + v];
    s += exp(lp) * (lp - logq[base + v]);
  }
  red[li] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h = h / 2u) {
    if (li < h) { red[li] += red[li + h]; }
    workgroupBarrier();
  }
  if (li == 0u) { out[t] = red[0]; }
}
