// nonfinite: a sticky flag that is set when any element of a tensor is NaN or ±Inf.
//   flag[word] ← flag[word] | 1   if ∃ i < n : exponent bits of data[i] are all ones (0x7f800000)
// The test is on the bit pattern (bitcast<u32>), never `x != x`: WGSL lets compilers assume floats are finite.
// The flag is only ever OR-ed (u32 atomicOr, no float atomics), so the result does not depend on thread order;
// the host clears it. CPU twin: src/reference/nonfinite.ts.
//
// Shapes: n = element count of the tensor. Entry point: nonfinite. Override constant: WG.

override WG: u32 = 256u;

struct Params {
  n: u32,     // elements of data
  word: u32,  // index of the flag word in `flag`
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;             // (n)
@group(0) @binding(2) var<storage, read_write> flag: array<atomic<u32>>; // (word + 1)

@compute @workgroup_size(WG)
fn nonfinite(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid;
  if (i >= params.n) { return; }
  if ((bitcast<u32>(data[i]) & 0x7f800000u) == 0x7f800000u) {
    atomicOr(&flag[params.word], 1u);
  }
}
