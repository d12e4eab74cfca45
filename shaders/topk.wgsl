// topk: per-row TopK selection of pre-activations by radix select, one workgroup per row.
//
// Shapes: R = rows, S = d_sae, k ≤ K_MAX = 256 (k ≤ S).
// Algorithm (no float atomics; the result is deterministic):
//  1. Every float is mapped to an order-preserving u32 key (negatives: all bits flipped; others: sign bit set).
//  2. Radix select from the top, 8 bits per pass: a 256-bin histogram (workgroup u32 atomics) of the keys that
//     share the prefix found so far picks the bin holding the k-th largest key. Two histograms alternate, so
//     each pass needs two barriers. The loop stops as soon as that bin holds exactly the keys still needed
//     (usually after 2 passes on real data); after 4 passes the prefix is the exact k-th largest key T.
//  3. Collect: if the bin is exactly filled, every key whose masked prefix is ≥ the prefix; otherwise (ties at
//     T) every key > T, and invocation 0 scans the row in index order and takes the LOWEST indices equal to T
//     (documented tie rule, the same as src/reference/topk.ts).
//  4. Order: each pick's rank = number of picks before it (key descending, then index ascending); it is written
//     at that position of the output row. No sorting network, no further barriers.
// Work per row: 2–5 reads of the row + O(k²) rank comparisons; workgroup memory: 512 + 2·K_MAX u32 (4 KiB).
// Entry point: topk. Override constant: WG (invocations per row, ≤ 256 on SwiftShader; the host picks
// ≈ S/16 clamped to [32, 256], since barriers dominate on CPU adapters).
// Subgroup variant (src/gpu/kernels/topk.ts, `subgroups`): include/topk-select-sg.wgsl replaces topk-select.wgsl —
// the digit search of step 2 by subgroup scans (256/subgroup-size steps instead of 256) and one atomicAdd per
// subgroup in step 3; the same picks, order and ties.

override WG: u32 = 256u;
const K_MAX: u32 = 256u;

struct Params {
  rows: u32,   // R
  d_sae: u32,  // S
  k: u32,      // k
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pre: array<u32>;                // (R, S) f32 bit patterns
@group(0) @binding(2) var<storage, read_write> out_indices: array<u32>;  // (R, k) latent indices
@group(0) @binding(3) var<storage, read_write> out_values: array<u32>;   // (R, k) f32 bit patterns of pre

var<workgroup> hist: array<atomic<u32>, 512>;  // two 256-bin histograms, alternating per pass
var<workgroup> sel_key: array<u32, K_MAX>;
var<workgroup> sel_idx: array<u32, K_MAX>;
var<workgroup> n_sel: atomic<u32>;
// Written by invocation 0 after each pass: (prefix, remaining, done).
var<workgroup> wg_state: vec3<u32>;

//#include "order_key.wgsl"
//#include "topk-select.wgsl"

// True when pick a comes before pick b: larger key first, then lower index.
fn before(ka: u32, ia: u32, kb: u32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(WG)
fn topk(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ids: SelectIds) {
  let lid = ids.lid;
  let row = wg.y * nwg.x + wg.x;
  if (row >= params.rows) { return; }
  let S = params.d_sae;
  let k = params.k;
  let base = row * S;

  for (var i = lid; i < 256u; i += WG) { atomicStore(&hist[i], 0u); }
  if (lid == 0u) { atomicStore(&n_sel, 0u); }
  workgroupBarrier();

  var prefix = 0u;
  var mask = 0u;
  var remaining = k;
  var done = 0u;
  for (var pass_ = 0u; pass_ < 4u; pass_++) {
    let shift = 24u - 8u * pass_;
    let h = (pass_ & 1u) * 256u;      // this pass's histogram
    let other = 256u - h;             // cleared now for the next pass
    for (var i = lid; i < 256u; i += WG) { atomicStore(&hist[other + i], 0u); }
    for (var i = lid; i < S; i += WG) {
      let key = order_key(pre[base + i]);
      if ((key & mask) == prefix) { atomicAdd(&hist[h + ((key >> shift) & 255u)], 1u); }
    }
    workgroupBarrier();
    find_digit(ids, h, shift, prefix, remaining);
    let st = workgroupUniformLoad(&wg_state);
    prefix = st.x;
    remaining = st.y;
    done = st.z;
    mask = mask | (255u << shift);
    if (done == 1u) { break; }
  }

  // Collect the picks (slots in arbitrary order; ranked below). The loop's trip count is the same for every
  // invocation, so claim_slot runs in uniform control flow.
  for (var first = 0u; first < S; first += WG) {
    let i = first + lid;
    var key = 0u;
    var pick = false;
    if (i < S) {
      key = order_key(pre[base + i]);
      let masked = key & mask;
      pick = masked > prefix || (done == 1u && masked == prefix);
    }
    let slot = claim_slot(ids, pick);
    if (pick) {
      sel_key[slot] = key;
      sel_idx[slot] = i;
    }
  }
  if (done == 0u && lid == 0u) {
    // Only some of the keys equal to the exact threshold fit: take the lowest indices, in order.
    var slot = k - remaining;
    for (var i = 0u; i < S && slot < k; i++) {
      if (order_key(pre[base + i]) == prefix) {
        sel_key[slot] = prefix;
        sel_idx[slot] = i;
        slot += 1u;
      }
    }
  }
  workgroupBarrier();

  for (var j = lid; j < k; j += WG) {
    let kj = sel_key[j];
    let ij = sel_idx[j];
    var rank = 0u;
    for (var i = 0u; i < k; i++) {
      if (before(sel_key[i], sel_idx[i], kj, ij)) { rank += 1u; }
    }
    out_indices[row * k + rank] = ij;
    out_values[row * k + rank] = pre[base + ij];
  }
}
