// The register-block core shared by shaders/matmul.wgsl and shaders/matmul-vec4.wgsl: the uniform Params, the
// products of one k slice already in workgroup memory, and the final store. Needs in the including shader:
// `TM`, `TN` (register block, const), `WG`, `BK`, `tile_a` (WG·TM × BK), `tile_b` (BK × WG·TN), `params`, `bias`, `c`.

struct Params {
  M: u32,
  N: u32,
  K: u32,
  has_bias: u32,
  trans_a: u32,
  trans_b: u32,
  _pad0: u32,
  _pad1: u32,
};

// acc[i·TN + j] += Σ_{kk < kmax} tile_a[row i][kk] · tile_b[kk][column j], in increasing kk (rows lid.y + i·WG,
// columns lid.x + j·WG of the block).
fn mm_slice(acc: ptr<function, array<f32, TM * TN>>, lid: vec3<u32>, kmax: u32) {
  let bn = WG * TN;
  var a_reg: array<f32, TM>;
  var b_reg: array<f32, TN>;
  for (var kk = 0u; kk < kmax; kk++) {
    for (var i = 0u; i < TM; i++) { a_reg[i] = tile_a[(lid.y + i * WG) * BK + kk]; }
    for (var j = 0u; j < TN; j++) { b_reg[j] = tile_b[kk * bn + lid.x + j * WG]; }
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) {
        (*acc)[i * TN + j] += a_reg[i] * b_reg[j];
      }
    }
  }
}

// c[row, col] = acc (+ bias[col] when has_bias) for this invocation's outputs inside [M, N].
fn mm_store(acc: ptr<function, array<f32, TM * TN>>, lid: vec3<u32>, row_base: u32, col_base: u32) {
  for (var i = 0u; i < TM; i++) {
    let row = row_base + lid.y + i * WG;
    if (row >= params.M) { continue; }
    for (var j = 0u; j < TN; j++) {
      let col = col_base + lid.x + j * WG;
      if (col >= params.N) { continue; }
      var v = (*acc)[i * TN + j];
      if (params.has_bias == 1u) { v += bias[col]; }
      c[row * params.N + col] = v;
    }
  }
}
