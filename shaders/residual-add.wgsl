// residual_add: x[i] ← x[i] + y[i] (the residual stream update after attention and after the MLP).
// One invocation per element. Entry point: residual_add. Override constants: WG.
// CPU twin: src/lm/forward-cpu.ts addCpu.

override WG: u32 = 64u;

struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;  // (n)
@group(0) @binding(2) var<storage, read> y: array<f32>;        // (n)

//#include "linear_id.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn residual_add(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  if (i >= params.n) { return; }
  x[i] = x[i] + y[i];
}
