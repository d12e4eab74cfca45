// log_softmax: per row t of logits (T, V), in place: ℓ[t, v] ← ℓ[t, v] − log Σ_u exp(ℓ[t, u] − max) − max; and the
// next-token cross-entropy ce[t] = −logp[t, targets[t]] = lse − ℓ[t, targets[t]] (targets[t] = token t+1; rows t ≥ T − 1 write ce = 0).
// One workgroup per row: a max reduction, then a sum reduction, in workgroup memory.
// Entry point: log_softmax. Override constants: WG (a power of two).
// CPU twin: src/lm/forward-cpu.ts logSoftmaxCpu and tokenCeCpu.

override WG: u32 = 64u;

struct Params {
  T: u32,
  V: u32,
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> logits: array<f32>;  // (T, V) → log-probs
@group(0) @binding(2) var<storage, read> targets: array<u32>;       // (T): token t+1 (last entry unused)
@group(0) @binding(3) var<storage, read_write> ce: array<f32>;      // (T)

var<workgroup> red: array<f32, WG>;

//#include "linear_id.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn log_softmax(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) li: u32) {
  let t = workgroup_linear_id(wg, nwg);
  if (t >= params.T) { return; }
  let V = params.V;
  let base = t * V;
  // The target's logit, read before any invocation overwrites the row (the writes come after the barriers below).
  var target_logit = 0.0;
  if (t + 1u < params.T) { target_logit = logits[base + targets[t]]; }
  var mx = -3.4e38;
  for (var v = li; v < V; v += WG) { mx = max(mx, logits[base + v]); }
  red[li] = mx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] = max(red[li], red[li + s]); }
    workgroupBarrier();
  }
  let m = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var v = li; v < V; v += WG) { sum += exp(logits[base + v] - m); }
  red[li] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  let lse = m + log(red[0]);
  for (var v = li; v < V; v += WG) { logits[base + v] = logits[base + v] - lse; }
  if (li == 0u) {
    if (t + 1u < params.T) { ce[t] = lse - target_logit; } else { ce[t] = 0.0; }
  }
}
