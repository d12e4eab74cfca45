// topk: per-row TopK selection of pre-activations by radix select, one workgroup per row.
//
// Shapes: R = rows, S = d_sae, k ≤ K_MAX = 256 (k ≤ S).
// Algorithm (no float atomics; the result is deterministic):
//  1. Every float is mapped to an order-preserving u32 key (negatives: all bits flipped; others: sign bit set).
//  2. Radix select, 4 passes of 8 bits from the top: a 256-bin histogram (workgroup u32 atomics) of the keys
//     that share the prefix found so far picks the next digit of the k-th largest key T. After 4 passes T is
//     exact and `need_eq` = how many keys equal to T belong to the top k.
//  3. Collect keys > T (and keys == T when all of them are needed) into workgroup memory; when only some ties
//     are needed, invocation 0 scans the row in index order and takes the LOWEST indices (documented tie rule,
//     same as src/reference/topk.ts).
//  4. Bitonic sort of the k picks by key descending, then index ascending; write (index, value) pairs.
// Work per row: 5 reads of the row; workgroup memory: 256 + 2·K_MAX u32 (3 KiB).
// Entry point: topk. Override constant: WG (invocations per workgroup, ≤ 256 on SwiftShader).

override WG: u32 = 256u;
const K_MAX: u32 = 256u;

struct Params {
  rows: u32,     // R
  d_sae: u32,    // S
  k: u32,        // k
  k_pow2: u32,   // next power of two ≥ k (bitonic sort size)
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> pre: array<u32>;                // (R, S) f32 bit patterns
@group(0) @binding(2) var<storage, read_write> out_indices: array<u32>;  // (R, k) latent indices
@group(0) @binding(3) var<storage, read_write> out_values: array<u32>;   // (R, k) f32 bit patterns of pre

var<workgroup> hist: array<atomic<u32>, 256>;
var<workgroup> sel_key: array<u32, K_MAX>;
var<workgroup> sel_idx: array<u32, K_MAX>;
var<workgroup> n_sel: atomic<u32>;
var<workgroup> wg_prefix: u32;
var<workgroup> wg_remaining: u32;
var<workgroup> wg_eq_total: u32;

fn order_key(bits: u32) -> u32 {
  if ((bits & 0x80000000u) != 0u) { return ~bits; }
  return bits | 0x80000000u;
}

// True when pick a comes before pick b: larger key first, then lower index.
fn before(ka: u32, ia: u32, kb: u32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(WG)
fn topk(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= params.rows) { return; }
  let S = params.d_sae;
  let k = params.k;
  let base = row * S;

  var prefix = 0u;
  var mask = 0u;
  var remaining = k;
  for (var pass_ = 0u; pass_ < 4u; pass_++) {
    let shift = 24u - 8u * pass_;
    for (var i = lid; i < 256u; i += WG) { atomicStore(&hist[i], 0u); }
    workgroupBarrier();
    for (var i = lid; i < S; i += WG) {
      let key = order_key(pre[base + i]);
      if ((key & mask) == prefix) { atomicAdd(&hist[(key >> shift) & 255u], 1u); }
    }
    workgroupBarrier();
    if (lid == 0u) {
      var cum = 0u;
      var digit = 255u;
      loop {
        let c = atomicLoad(&hist[digit]);
        if (cum + c >= remaining || digit == 0u) { break; }
        cum += c;
        digit -= 1u;
      }
      wg_prefix = prefix | (digit << shift);
      wg_remaining = remaining - cum;
      wg_eq_total = atomicLoad(&hist[digit]);
    }
    prefix = workgroupUniformLoad(&wg_prefix);
    remaining = workgroupUniformLoad(&wg_remaining);
    mask = mask | (255u << shift);
  }
  let threshold = prefix;
  let need_eq = remaining;
  let take_all_eq = workgroupUniformLoad(&wg_eq_total) == need_eq;

  if (lid == 0u) { atomicStore(&n_sel, 0u); }
  workgroupBarrier();
  for (var i = lid; i < S; i += WG) {
    let key = order_key(pre[base + i]);
    if (key > threshold || (take_all_eq && key == threshold)) {
      let slot = atomicAdd(&n_sel, 1u);
      sel_key[slot] = key;
      sel_idx[slot] = i;
    }
  }
  workgroupBarrier();
  if (!take_all_eq && lid == 0u) {
    // Only some of the keys equal to the threshold fit: take the lowest indices, in order.
    var slot = k - need_eq;
    for (var i = 0u; i < S && slot < k; i++) {
      if (order_key(pre[base + i]) == threshold) {
        sel_key[slot] = threshold;
        sel_idx[slot] = i;
        slot += 1u;
      }
    }
  }
  // Pad to a power of two with picks that sort last.
  let P = params.k_pow2;
  for (var i = k + lid; i < P; i += WG) {
    sel_key[i] = 0u;
    sel_idx[i] = 0xffffffffu;
  }
  workgroupBarrier();

  for (var size = 2u; size <= P; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var t = lid; t < P / 2u; t += WG) {
        let i = 2u * t - (t & (stride - 1u));
        let j = i + stride;
        let forward = (i & size) == 0u;
        let ka = sel_key[i];
        let ia = sel_idx[i];
        let kb = sel_key[j];
        let ib = sel_idx[j];
        if (before(kb, ib, ka, ia) == forward) {
          sel_key[i] = kb;
          sel_idx[i] = ib;
          sel_key[j] = ka;
          sel_idx[j] = ia;
        }
      }
      workgroupBarrier();
    }
  }

  for (var j = lid; j < k; j += WG) {
    let s = sel_idx[j];
    out_indices[row * k + j] = s;
    out_values[row * k + j] = pre[base + s];
  }
}
