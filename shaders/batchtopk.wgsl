// batchtopk: BatchTopK selection over a whole batch (Bussmann et al. 2024; seed 001_9b5e40b3c1a813c3.txt) by a
// global radix select, and the running threshold θ. CPU twin: src/reference/batchtopk.ts.
//
// Shapes: R = rows, S = d_sae, n = R·S pre-activations (designed for n up to a few million and beyond: every
// pass is a grid-stride over n with a workgroup-private histogram; no pass holds the batch in one workgroup).
//   1. batchtopk_init       state = (pass 0, prefix 0, remaining n_keep, min key ∞); global histogram = 0.
//   2. 4 × (batchtopk_hist, batchtopk_digit): 8-bit radix digits of the n_keep-th largest order key T, from the
//      top. hist counts, per 256-bin digit, the keys that share the prefix found so far (workgroup u32 atomics,
//      then one global atomicAdd per nonzero bin: exact and order-free). digit (one invocation) walks the bins
//      from 255 down, appends the digit where the running count reaches `remaining`, and clears the histogram.
//   3. batchtopk_apply       z = pre if key(pre) ≥ T and pre > 0 else 0 (every tie at T kept, as the twin);
//                            min key of the kept values → state[3] (workgroup atomicMin, then global atomicMin).
//   4. batchtopk_threshold   θ ← m (first step) or (1 − γ)·θ + γ·m, m = value of state[3]; unchanged if nothing
//                            was kept. Written to all S entries of θ.
//   5. batchtopk_count       one invocation per row: its number of kept latents; the batch maximum → state[4].
//   6. batchtopk_compact     one invocation per row: its kept latents as (index, value) pairs in index order in the
//                            first slots of a [R, k_cap] row, the other slots (0, 0.0) — the layout of the TopK
//                            kernels, whose sparse decode and backward then run unchanged (a value of 0 is a
//                            latent that did not fire). k_cap = state[5] (≥ state[4]): written by batchtopk_plan
//                            (shaders/batchtopk-plan.wgsl, on the GPU) or by the host (setCompactCap, tests).
// Order keys: negatives have all bits flipped, non-negatives the sign bit set (as shaders/topk.wgsl).
// Entry points: batchtopk_init, batchtopk_hist, batchtopk_digit, batchtopk_apply, batchtopk_threshold,
// batchtopk_count, batchtopk_compact.
// Override constants: WG (invocations per workgroup, power of two ≤ 256), ITEMS (elements per invocation in
// hist and apply).

override WG: u32 = 256u;
override ITEMS: u32 = 8u;

struct Params {
  n: u32,               // R·S
  n_keep: u32,          // min(k·R, R·S)
  d_sae: u32,           // S
  first: u32,           // 1 on the first training step (θ takes the batch value), else 0
  rate: f32,            // γ
  one_minus_rate: f32,  // 1 − γ
  _pad1: u32,
  _pad0: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pre: array<u32>;                  // (R, S) f32 bit patterns
@group(0) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;   // (256)
@group(0) @binding(3) var<storage, read_write> state: array<atomic<u32>>;  // (8): pass, prefix, remaining, min key, max row count, k_cap
@group(0) @binding(4) var<storage, read_write> z: array<f32>;              // (R, S)
@group(0) @binding(5) var<storage, read_write> threshold: array<f32>;      // (S)
@group(0) @binding(6) var<storage, read_write> out_indices: array<u32>;    // (R, k_cap)
@group(0) @binding(7) var<storage, read_write> out_values: array<f32>;     // (R, k_cap)

var<workgroup> local_hist: array<atomic<u32>, 256>;
var<workgroup> local_min: atomic<u32>;

//#include "order_key.wgsl"

fn wg_index(wg: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wg.y * nwg.x + wg.x;
}

@compute @workgroup_size(WG)
fn batchtopk_init(@builtin(local_invocation_index) lid: u32) {
  for (var b = lid; b < 256u; b += WG) { atomicStore(&hist[b], 0u); }
  if (lid == 0u) {
    atomicStore(&state[0], 0u);
    atomicStore(&state[1], 0u);
    atomicStore(&state[2], params.n_keep);
    atomicStore(&state[3], 0xffffffffu);
    atomicStore(&state[4], 0u);
  }
}

@compute @workgroup_size(WG)
fn batchtopk_hist(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  for (var b = lid; b < 256u; b += WG) { atomicStore(&local_hist[b], 0u); }
  let pass_ = atomicLoad(&state[0]);
  let prefix = atomicLoad(&state[1]);
  let shift = 24u - 8u * pass_;
  var mask = 0u;
  if (pass_ > 0u) { mask = 0xffffffffu << (32u - 8u * pass_); }
  workgroupBarrier();
  let base = wg_index(wg, nwg) * WG * ITEMS;
  for (var j = 0u; j < ITEMS; j++) {
    let i = base + j * WG + lid;
    if (i < params.n) {
      let key = order_key(pre[i]);
      if ((key & mask) == prefix) { atomicAdd(&local_hist[(key >> shift) & 255u], 1u); }
    }
  }
  workgroupBarrier();
  for (var b = lid; b < 256u; b += WG) {
    let c = atomicLoad(&local_hist[b]);
    if (c > 0u) { atomicAdd(&hist[b], c); }
  }
}

@compute @workgroup_size(WG)
fn batchtopk_digit(@builtin(local_invocation_index) lid: u32) {
  if (lid != 0u) { return; }
  let pass_ = atomicLoad(&state[0]);
  let shift = 24u - 8u * pass_;
  let remaining = atomicLoad(&state[2]);
  var cum = 0u;
  var digit = 255u;
  loop {
    let c = atomicLoad(&hist[digit]);
    if (cum + c >= remaining || digit == 0u) { break; }
    cum += c;
    digit -= 1u;
  }
  atomicStore(&state[1], atomicLoad(&state[1]) | (digit << shift));
  atomicStore(&state[2], remaining - cum);
  atomicStore(&state[0], pass_ + 1u);
  for (var b = 0u; b < 256u; b++) { atomicStore(&hist[b], 0u); }
}

@compute @workgroup_size(WG)
fn batchtopk_apply(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { atomicStore(&local_min, 0xffffffffu); }
  let t = atomicLoad(&state[1]);
  workgroupBarrier();
  let base = wg_index(wg, nwg) * WG * ITEMS;
  for (var j = 0u; j < ITEMS; j++) {
    let i = base + j * WG + lid;
    if (i < params.n) {
      let bits = pre[i];
      let v = bitcast<f32>(bits);
      let key = order_key(bits);
      var out = 0.0;
      if (key >= t && v > 0.0) {
        out = v;
        atomicMin(&local_min, key);
      }
      z[i] = out;
    }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let m = atomicLoad(&local_min);
    if (m != 0xffffffffu) { atomicMin(&state[3], m); }
  }
}

@compute @workgroup_size(WG)
fn batchtopk_threshold(@builtin(local_invocation_index) lid: u32) {
  let m_key = atomicLoad(&state[3]);
  let old = threshold[0];
  storageBarrier();  // every invocation has read θ before any writes it
  if (m_key == 0xffffffffu) { return; }
  let m = bitcast<f32>(m_key & 0x7fffffffu);  // kept values are > 0: their keys have the sign bit set
  var theta = m;
  if (params.first == 0u) { theta = params.one_minus_rate * old + params.rate * m; }
  for (var s = lid; s < params.d_sae; s += WG) { threshold[s] = theta; }
}

@compute @workgroup_size(WG)
fn batchtopk_count(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let r = wg_index(wg, nwg) * WG + lid;
  let S = params.d_sae;
  if (r >= params.n / S) { return; }
  var count = 0u;
  for (var s = 0u; s < S; s++) {
    if (z[r * S + s] != 0.0) { count += 1u; }
  }
  atomicMax(&state[4], count);
}

@compute @workgroup_size(WG)
fn batchtopk_compact(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let r = wg_index(wg, nwg) * WG + lid;
  let S = params.d_sae;
  if (r >= params.n / S) { return; }
  let cap = atomicLoad(&state[5]);
  var j = 0u;
  for (var s = 0u; s < S && j < cap; s++) {
    let v = z[r * S + s];
    if (v != 0.0) {
      out_indices[r * cap + j] = s;
      out_values[r * cap + j] = v;
      j += 1u;
    }
  }
  for (; j < cap; j++) {
    out_indices[r * cap + j] = 0u;
    out_values[r * cap + j] = 0.0;
  }
}
