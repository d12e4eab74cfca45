// Subgroup variant of reduce2.wgsl (see reduce-sg.wgsl for the scheme): red_f[0] ← Σ red_f, red_u[0] ← Σ red_u.
//#include "ballot.wgsl"

struct ReduceIds {
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_id) sg_id: u32,
  @builtin(num_subgroups) n_sg: u32,
}

fn workgroup_reduce2(ids: ReduceIds) {
  let sf = subgroupAdd(red_f[ids.lid]);
  let su = subgroupAdd(red_u[ids.lid]);
  workgroupBarrier();
  if (subgroupElect()) {
    red_f[ids.sg_id] = sf;
    red_u[ids.sg_id] = su;
  }
  workgroupBarrier();
  if (ids.sg_id == 0u) {
    let lanes = subgroupBallot(true);
    let width = ballot_count(lanes);
    let rank = ballot_rank(lanes, ids.sg_lane);
    var acc_f: RedF;
    var acc_u: RedU;
    for (var first = 0u; first < ids.n_sg; first += width) {  // the same trip count on every lane
      if (first + rank < ids.n_sg) {
        acc_f += red_f[first + rank];
        acc_u += red_u[first + rank];
      }
    }
    let total_f = subgroupAdd(acc_f);
    let total_u = subgroupAdd(acc_u);
    if (subgroupElect()) {
      red_f[0] = total_f;
      red_u[0] = total_u;
    }
  }
  workgroupBarrier();
}
