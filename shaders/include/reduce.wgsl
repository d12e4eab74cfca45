// Tree sum over the workgroup: red[0] ← Σ red[0..WG) with a fixed pairing (half, half/2, …, 1), so the float
// result is the same on every run. The including shader declares `override WG: u32` (a power of two) and
// `var<workgroup> red: array<T, WG>` for a numeric scalar or vector T, writes red[lid] from every invocation, and
// calls workgroup_sum(lid) in uniform control flow; red[0] holds the sum afterwards.
fn workgroup_sum(lid: u32) {
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
}
