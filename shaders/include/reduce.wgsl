// Tree sum over the workgroup: red[0] ← Σ red[0..WG) with a fixed pairing (half, half/2, …, 1), so the float
// result is the same on every run. The including shader declares `override WG: u32` (a power of two) and
// `var<workgroup> red: array<T, WG>` for a numeric scalar or vector T, writes red[lid] from every invocation, and
// calls workgroup_sum(lid) in uniform control flow; red[0] holds the sum afterwards.
// Shaders with a subgroup variant (src/gpu/kernels/subgroups.ts swaps in reduce-sg.wgsl) also declare
// `alias RedT = T;`, take `ids: ReduceIds` in their entry point and call workgroup_reduce(ids) instead.
fn workgroup_sum(lid: u32) {
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half >>= 1u) {
    if (lid < half) { red[lid] += red[lid + half]; }
    workgroupBarrier();
  }
}

// The invocation ids a reduction needs (reduce-sg.wgsl adds the subgroup ids).
struct ReduceIds {
  @builtin(local_invocation_index) lid: u32,
}

// workgroup_sum(ids.lid).
fn workgroup_reduce(ids: ReduceIds) {
  workgroup_sum(ids.lid);
}
