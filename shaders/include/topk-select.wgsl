// The per-row selection steps of shaders/topk.wgsl that have a subgroup variant (topk-select-sg.wgsl, swapped in by
// src/gpu/kernels/subgroups.ts). Uses topk.wgsl's workgroup variables hist, wg_state and n_sel.

// The invocation ids the selection needs (the subgroup twin adds the subgroup ids).
struct SelectIds {
  @builtin(local_invocation_index) lid: u32,
}

// One radix pass's digit: walking histogram h's 256 bins from the top, the first bin at which the running count
// reaches `remaining` (bin 0 at the latest); wg_state ← (prefix | digit << shift, keys still needed in that bin,
// 1 if the bin holds exactly that many). Invocation 0 walks serially.
fn find_digit(ids: SelectIds, h: u32, shift: u32, prefix: u32, remaining: u32) {
  if (ids.lid != 0u) { return; }
  var cum = 0u;
  var digit = 255u;
  loop {
    let c = atomicLoad(&hist[h + digit]);
    if (cum + c >= remaining || digit == 0u) { break; }
    cum += c;
    digit -= 1u;
  }
  let left = remaining - cum;
  wg_state = vec3<u32>(prefix | (digit << shift), left, select(0u, 1u, atomicLoad(&hist[h + digit]) == left));
}

// A free slot of sel_key / sel_idx for an invocation whose `pick` is true (one atomicAdd each); called by every
// invocation in uniform control flow.
fn claim_slot(ids: SelectIds, pick: bool) -> u32 {
  var slot = 0u;
  if (pick) { slot = atomicAdd(&n_sel, 1u); }
  return slot;
}
