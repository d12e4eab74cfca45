// Subgroup variant of reduce.wgsl, swapped in by the host (src/gpu/kernels/subgroups.ts, with `enable subgroups;`):
// red[0] ← Σ red[0..WG) by subgroupAdd within each subgroup, one partial per subgroup in red[subgroup_id], then
// subgroup 0 adds those partials (each of its lanes a strided run, then subgroupAdd). Three barriers instead of
// log2(WG) + 1; right for any subgroup size and any lane ↔ local index mapping (only subgroup_id and ballots are
// used). The summation order differs from the tree's (tests: n·eps tolerance). Same contract as workgroup_reduce in
// reduce.wgsl: the includer declares WG, `alias RedT`, `var<workgroup> red: array<RedT, WG>`, writes red[lid] and
// calls this in uniform control flow.
//#include "ballot.wgsl"

struct ReduceIds {
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_id) sg_id: u32,
  @builtin(num_subgroups) n_sg: u32,
}

fn workgroup_reduce(ids: ReduceIds) {
  let s = subgroupAdd(red[ids.lid]);
  workgroupBarrier();  // every invocation has read its own slot
  if (subgroupElect()) { red[ids.sg_id] = s; }
  workgroupBarrier();
  if (ids.sg_id == 0u) {
    let lanes = subgroupBallot(true);
    let width = ballot_count(lanes);
    let rank = ballot_rank(lanes, ids.sg_lane);
    var acc: RedT;
    for (var first = 0u; first < ids.n_sg; first += width) {  // the same trip count on every lane
      if (first + rank < ids.n_sg) { acc += red[first + rank]; }
    }
    let total = subgroupAdd(acc);
    if (subgroupElect()) { red[0] = total; }
  }
  workgroupBarrier();
}
