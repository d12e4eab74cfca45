// swiglu: y[i] = silu(a[i]) · b[i], silu(a) = a / (1 + e^(−a)) — the gate of llama's MLP, w2(silu(w1·h) ⊙ w3·h).
// One invocation per element. Entry point: swiglu. Override constants: WG.
// CPU twin: src/lm/forward-cpu.ts swigluCpu.

override WG: u32 = 64u;

struct Params {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // (n)
@group(0) @binding(2) var<storage, read> b: array<f32>;        // (n)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // (n)

//#include "linear_id.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn swiglu(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
  let i = linear_id(wg, nwg, lid);
  if (i >= params.n) { return; }
  let x = a[i];
  y[i] = (x / (1.0 + exp(-x))) * b[i];
}
