// Two tree sums in one pass, with the pairing of reduce.wgsl: red_f[0] ← Σ red_f and red_u[0] ← Σ red_u (a float
// and an integer accumulator side by side). The including shader declares `override WG: u32` (a power of two),
// `var<workgroup> red_f: array<F, WG>` and `var<workgroup> red_u: array<U, WG>`, writes both at [lid] and calls
// workgroup_sum2(lid) in uniform control flow.
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
