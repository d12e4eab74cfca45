// Helpers over a subgroupBallot result (vec4<u32>: bit i of the 128 = lane i), for the subgroup variants. They
// never assume which lanes are active or how lanes map to local_invocation_index.

// Number of lanes in b.
fn ballot_count(b: vec4<u32>) -> u32 {
  return countOneBits(b.x) + countOneBits(b.y) + countOneBits(b.z) + countOneBits(b.w);
}

// Number of lanes of b below `lane` (a lane's rank among the lanes of b).
fn ballot_rank(b: vec4<u32>, lane: u32) -> u32 {
  var n = 0u;
  for (var w = 0u; w < 4u; w++) {
    let lo = 32u * w;
    if (lane >= lo + 32u) {
      n += countOneBits(b[w]);
    } else if (lane > lo) {
      n += countOneBits(b[w] & ((1u << (lane - lo)) - 1u));
    }
  }
  return n;
}

// The lowest lane of b (128 when b is empty).
fn ballot_first(b: vec4<u32>) -> u32 {
  for (var w = 0u; w < 4u; w++) {
    if (b[w] != 0u) { return 32u * w + firstTrailingBit(b[w]); }
  }
  return 128u;
}
