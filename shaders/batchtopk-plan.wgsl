// batchtopk_plan: the BatchTopK step's bucket plan on the GPU, so a step reads nothing back (issue 17). After
// batchtopk_count (shaders/batchtopk.wgsl: the fullest row's kept count in state[4]) it picks the step's bucket
//   cap = 0 (dense decode and backward)            when max_count > 256
//       = min(smallest of 16, 32, 64, 128, 256 ≥ max_count, d_sae) otherwise
// (the rule of batchTopkCap in src/sae/formulas.ts), writes it to state[5] (the k_cap batchtopk_compact reads), and
// turns a table of recorded dispatches into indirect dispatch arguments: slot i of `gates` is (x, y, z, gate) — the
// workgroup counts the host recorded for the dispatch and the bucket it belongs to — and
//   args[i] = (x, y, z) if gate == cap else (0, 0, 0)
// so exactly one bucket's kernels run (a dispatch of 0 workgroups does nothing). CPU twin: batchTopkPlanCpu in
// src/reference/batchtopk-plan.ts.
//
// Shapes: slots = rows of `gates` (unused slots are all 0). Entry point: batchtopk_plan. Override constant: WG.

override WG: u32 = 64u;
const MAX_CAP: u32 = 256u;

struct Params {
  d_sae: u32,  // S
  slots: u32,  // rows of gates / args
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> state: array<u32>;     // (8) BatchTopK state: [4] max row count in, [5] cap out
@group(0) @binding(2) var<storage, read> gates: array<vec4<u32>>;     // (slots) x, y, z, gate
@group(0) @binding(3) var<storage, read_write> args: array<u32>;      // (slots, 3) indirect dispatch arguments

@compute @workgroup_size(WG)
fn batchtopk_plan(@builtin(local_invocation_index) lid: u32) {
  let max_count = state[4];
  var cap = 0u;
  if (max_count <= MAX_CAP) {
    cap = 16u;
    while (cap < max_count) { cap *= 2u; }
    cap = min(cap, params.d_sae);
  }
  for (var i = lid; i < params.slots; i += WG) {
    let g = gates[i];
    var xyz = vec3<u32>(0u);
    if (g.w == cap) { xyz = g.xyz; }
    args[3u * i] = xyz.x;
    args[3u * i + 1u] = xyz.y;
    args[3u * i + 2u] = xyz.z;
  }
  if (lid == 0u) { state[5] = cap; }
}
