// feature_top: pass 1 of the feature pass (src/features/pass.ts), one invocation per latent s. Over the rows of a
// block of dense latents z [R, S] whose first row is dataset row row0 (rows in increasing order, blocks in order):
//   count[s] += #{r : z[r, s] > 0},   max_act[s] = max(max_act[s], z[r, s]),
//   top list of s (K entries, value descending, ties to the lower token) merged in place.
// An entry with token −1 is empty (the host pads with value 0, token −1; the CPU twin pads with −∞, token −1).
// CPU twin: accumulatePass1 in src/features/pass.ts (featureStatsDenseCpu). No atomics: each latent is one thread.
//
// Shapes: R = rows of the block, S = d_sae, K = 20. Entry point: feature_top. Override constant: WG.

override WG: u32 = 64u;
const K: u32 = 20u;

struct Params {
  rows: u32,   // R
  d_sae: u32,  // S
  row0: u32,   // dataset row of z's first row
  stride: u32, // invocations per dispatch row (2-D grids when S > 65535·WG)
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;                // (R, S)
@group(0) @binding(2) var<storage, read_write> count: array<u32>;      // (S)
@group(0) @binding(3) var<storage, read_write> max_act: array<f32>;    // (S)
@group(0) @binding(4) var<storage, read_write> top_values: array<f32>; // (S, K)
@group(0) @binding(5) var<storage, read_write> top_tokens: array<i32>; // (S, K)

// (v, t) ranks before entry e: e is empty, or v is larger, or equal with a lower token.
fn beats(v: f32, t: i32, e: u32) -> bool {
  let te = top_tokens[e];
  return te < 0 || v > top_values[e] || (v == top_values[e] && t < te);
}

@compute @workgroup_size(WG)
fn feature_top(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = gid.x + gid.y * params.stride;
  let S = params.d_sae;
  if (s >= S) { return; }
  var c = count[s];
  var m = max_act[s];
  let base = s * K;
  for (var r = 0u; r < params.rows; r++) {
    let v = z[r * S + s];
    if (!(v > 0.0)) { continue; }
    c += 1u;
    m = max(m, v);
    let t = i32(params.row0 + r);
    if (!beats(v, t, base + K - 1u)) { continue; }
    var j = K - 1u;
    loop {
      if (j == 0u) { break; }
      if (!beats(v, t, base + j - 1u)) { break; }
      top_values[base + j] = top_values[base + j - 1u];
      top_tokens[base + j] = top_tokens[base + j - 1u];
      j -= 1u;
    }
    top_values[base + j] = v;
    top_tokens[base + j] = t;
  }
  count[s] = c;
  max_act[s] = m;
}
