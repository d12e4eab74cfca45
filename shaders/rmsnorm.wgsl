// rmsnorm: y[t, i] = g[i] · x[t, i] / sqrt(mean_j x[t, j]² + eps), eps = 1e-5 (llama2.c).
// One workgroup per row t; WG invocations stride over the row and reduce the sum of squares in workgroup memory.
// Entry point: rmsnorm. Override constants: WG (workgroup size, a power of two).
// CPU twin: src/lm/forward-cpu.ts rmsnormCpu.

override WG: u32 = 64u;

struct Params {
  T: u32,
  D: u32,
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;        // (T, D)
@group(0) @binding(2) var<storage, read> g: array<f32>;        // (D)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // (T, D)

var<workgroup> partial: array<f32, WG>;

//#include "linear_id.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn rmsnorm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) li: u32) {
  let t = workgroup_linear_id(wg, nwg);
  if (t >= params.T) { return; }
  let D = params.D;
  let base = t * D;
  var ss = 0.0;
  for (var i = li; i < D; i += WG) {
    let v = x[base + i];
    ss += v * v;
  }
  partial[li] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (li < s) { partial[li] += partial[li + s]; }
    workgroupBarrier();
  }
  let r = 1.0 / sqrt(partial[0] / f32(D) + 1e-5);
  for (var i = li; i < D; i += WG) {
    y[base + i] = g[i] * (x[base + i] * r);
  }
}
