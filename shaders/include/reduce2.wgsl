// Two tree sums in one pass, with the pairing of reduce.wgsl: red_f[0] ← Σ red_f and red_u[0] ← Σ red_u (a float
// and an integer accumulator side by side). The including shader declares `override WG: u32` (a power of two),
// `var<workgroup> red_f: array<F, WG>` and `var<workgroup> red_u: array<U, WG>`, writes both at [lid] and calls
// workgroup_sum2(lid) in uniform control flow.
// Shaders with a subgroup variant (reduce2-sg.wgsl) also declare `alias RedF = F; alias RedU = U;`, take
// `ids: ReduceIds` in their entry point and call workgroup_reduce2(ids) instead.
fn workgroup_sum2(lid: u32) {
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) {
      red_f[lid] += red_f[lid + half];
      red_u[lid] += red_u[lid + half];
    }
    workgroupBarrier();
  }
}

// The invocation ids a reduction needs (reduce2-sg.wgsl adds the subgroup ids).
struct ReduceIds {
  @builtin(local_invocation_index) lid: u32,
}

// workgroup_sum2(ids.lid).
fn workgroup_reduce2(ids: ReduceIds) {
  workgroup_sum2(ids.lid);
}
