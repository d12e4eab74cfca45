// Subgroup variant of topk-select.wgsl (needs `enable subgroups;`). Right for any subgroup size and any lane ↔
// local index mapping: only subgroup_id, ballots and scans in lane order are used.
//#include "ballot.wgsl"

struct SelectIds {
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
  @builtin(subgroup_id) sg_id: u32,
}

// find_digit of topk-select.wgsl by subgroup 0: its w active lanes take w bins at a time from the top (lane of rank r
// takes the r-th), an inclusive subgroup scan gives each lane the running count through its bin, and a ballot finds
// the first lane (= the highest bin) where it reaches `remaining` — the same digit as the serial walk, in 256/w steps.
fn find_digit(ids: SelectIds, h: u32, shift: u32, prefix: u32, remaining: u32) {
  if (ids.sg_id != 0u) { return; }
  let lanes = subgroupBallot(true);
  let width = ballot_count(lanes);
  let rank = ballot_rank(lanes, ids.sg_lane);
  var cum = 0u;
  for (var top = 0u; top < 256u; top += width) {
    let from_top = top + rank;  // bin 255 − from_top
    var c = 0u;
    if (from_top < 256u) { c = atomicLoad(&hist[h + 255u - from_top]); }
    let incl = subgroupInclusiveAdd(c);
    let hit = (from_top < 256u) & ((cum + incl >= remaining) | (from_top == 255u));
    let hits = subgroupBallot(hit);
    if (ballot_count(hits) > 0u) {
      if (ids.sg_lane == ballot_first(hits)) {
        let left = remaining - (cum + incl - c);
        wg_state = vec3<u32>(prefix | ((255u - from_top) << shift), left, select(0u, 1u, c == left));
      }
      return;
    }
    cum += subgroupAdd(c);
  }
}

// claim_slot of topk-select.wgsl with one atomicAdd per subgroup: a ballot of the picks, the elected lane reserves
// them all, each pick takes base + its rank among them.
fn claim_slot(ids: SelectIds, pick: bool) -> u32 {
  let picks = subgroupBallot(pick);
  let n = ballot_count(picks);
  var base = 0u;
  if (n > 0u) {
    if (subgroupElect()) { base = atomicAdd(&n_sel, n); }
    base = subgroupMax(base);
  }
  return base + ballot_rank(picks, ids.sg_lane);
}
