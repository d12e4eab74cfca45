// bucket: the transpose of the TopK picks, latent → list of (row, slot) pairs that fired on it, built without
// float atomics so the backward sums have a fixed order. Four entry points, one binding layout:
//   bucket_count: counts[s] += 1 for every pair p = r·k + j with value > 0 (u32 atomics: exact, order-free).
//   bucket_scan:  one workgroup; offsets = exclusive prefix sum of counts; cursor = offsets;
//                 fire_counts = counts; counts reset to 0 for the next batch.
//   bucket_fill:  each fired pair appends p to its latent's bucket at atomicAdd(cursor[s], 1).
//   bucket_sort:  one invocation per latent sorts its bucket by p ascending (insertion sort; buckets arrive
//                 nearly sorted), which makes the bucket contents independent of the atomic order.
// "Fired" means value > 0 (the latent ReLU(value) is nonzero).
//
// Shapes: R = rows, S = d_sae, k; P = R·k pairs.
// buckets = [offsets (S + 1) | entries (P)] in one u32 buffer: bucket s is entries[offsets[s] .. offsets[s+1]).
// Entry points: bucket_count, bucket_scan, bucket_fill, bucket_sort. Override constant: WG (bucket_scan
// requires a power of two).

override WG: u32 = 256u;

struct Params {
  rows: u32,   // R
  d_sae: u32,  // S
  k: u32,      // k
  _pad: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> indices: array<u32>;                 // (R, k)
@group(0) @binding(2) var<storage, read> values: array<f32>;                  // (R, k)
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;    // (S), zero between batches
@group(0) @binding(4) var<storage, read_write> cursor: array<atomic<u32>>;    // (S)
@group(0) @binding(5) var<storage, read_write> buckets: array<u32>;           // (S + 1 + R·k)
@group(0) @binding(6) var<storage, read_write> fire_counts: array<u32>;       // (S)

var<workgroup> partial: array<u32, WG>;

//#include "linear_id.wgsl"

@compute @workgroup_size(WG)
fn bucket_count(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let p = linear_id(wg, nwg, lid);
  if (p >= params.rows * params.k) { return; }
  if (values[p] > 0.0) { atomicAdd(&counts[indices[p]], 1u); }
}

@compute @workgroup_size(WG)
fn bucket_scan(@builtin(local_invocation_index) lid: u32) {
  let S = params.d_sae;
  let chunk = (S + WG - 1u) / WG;
  let lo = min(lid * chunk, S);
  let hi = min(lo + chunk, S);
  var sum = 0u;
  for (var s = lo; s < hi; s++) { sum += atomicLoad(&counts[s]); }
  partial[lid] = sum;
  workgroupBarrier();
  // Hillis–Steele inclusive scan of the per-invocation sums.
  for (var off = 1u; off < WG; off <<= 1u) {
    var v = partial[lid];
    if (lid >= off) { v += partial[lid - off]; }
    workgroupBarrier();
    partial[lid] = v;
    workgroupBarrier();
  }
  var run = partial[lid] - sum;  // exclusive
  for (var s = lo; s < hi; s++) {
    let c = atomicLoad(&counts[s]);
    buckets[s] = run;
    atomicStore(&cursor[s], run);
    fire_counts[s] = c;
    atomicStore(&counts[s], 0u);
    run += c;
  }
  if (lid == WG - 1u) { buckets[S] = partial[WG - 1u]; }
}

@compute @workgroup_size(WG)
fn bucket_fill(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let p = linear_id(wg, nwg, lid);
  if (p >= params.rows * params.k) { return; }
  if (values[p] > 0.0) {
    let slot = atomicAdd(&cursor[indices[p]], 1u);
    buckets[params.d_sae + 1u + slot] = p;
  }
}

@compute @workgroup_size(WG)
fn bucket_sort(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let s = linear_id(wg, nwg, lid);
  let S = params.d_sae;
  if (s >= S) { return; }
  let base = S + 1u;
  let lo = base + buckets[s];
  let hi = base + buckets[s + 1u];
  for (var i = lo + 1u; i < hi; i++) {
    let v = buckets[i];
    var j = i;
    while (j > lo && buckets[j - 1u] > v) {
      buckets[j] = buckets[j - 1u];
      j -= 1u;
    }
    buckets[j] = v;
  }
}
