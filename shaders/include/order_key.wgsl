// Order-preserving u32 key of float32 bits: negative floats get all bits flipped, non-negative ones the sign bit
// set, so unsigned key order is float order (−0 below +0). CPU twin: f32OrderKey in src/sae/formulas.ts.
fn order_key(bits: u32) -> u32 {
  if ((bits & 0x80000000u) != 0u) { return ~bits; }
  return bits | 0x80000000u;
}
