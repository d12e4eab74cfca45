// feature_bands: pass 2 of the feature pass (src/features/pass.ts), one invocation per latent s, after pass 1 has
// given each latent's max. Over the rows of a block of dense latents z [R, S] whose first row is dataset row row0:
//   hist[s, min(NH − 1, ⌊z·hist_scale[s]⌋)] += 1                       (hist_scale = f32(NH / max))
//   band b = min(NB − 1, ⌊z·band_scale[s]⌋)                             (band_scale = f32(NB / max))
//   the P tokens of band b with the smallest priority(seed, s, t) are kept, ascending (ties: lower token);
//   priority = murmur3 fmix32((t·0x9e3779b1) ^ ((s + 1)·0x85ebca77) ^ seed) (u32 arithmetic, wrapping).
// f32 products are correctly rounded in WGSL, so bins equal the CPU twin's. An entry with token −1 is empty.
// CPU twin: accumulatePass2 in src/features/pass.ts (featureStatsDenseCpu).
//
// Shapes: R = rows, S = d_sae, NH = 50 bins, NB = 10 bands, P = 5 per band. Entry point: feature_bands.

override WG: u32 = 64u;
const NH: u32 = 50u;
const NB: u32 = 10u;
const P: u32 = 5u;

struct Params {
  rows: u32,   // R
  d_sae: u32,  // S
  row0: u32,   // dataset row of z's first row
  seed: u32,   // seed of the band choice
  stride: u32, // invocations per dispatch row
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;                 // (R, S)
@group(0) @binding(2) var<storage, read> hist_scale: array<f32>;        // (S)
@group(0) @binding(3) var<storage, read> band_scale: array<f32>;        // (S)
@group(0) @binding(4) var<storage, read_write> hist: array<u32>;        // (S, NH)
@group(0) @binding(5) var<storage, read_write> band_values: array<f32>; // (S, NB, P)
@group(0) @binding(6) var<storage, read_write> band_tokens: array<i32>; // (S, NB, P)

fn priority(seed: u32, s: u32, t: u32) -> u32 {
  var h = (t * 0x9e3779b1u) ^ ((s + 1u) * 0x85ebca77u) ^ seed;
  h ^= h >> 16u;
  h *= 0x85ebca6bu;
  h ^= h >> 13u;
  h *= 0xc2b2ae35u;
  h ^= h >> 16u;
  return h;
}

// (p, t) ranks before slot e of latent s: e is empty, or p is smaller, or equal with a lower token.
fn beats(p: u32, t: i32, s: u32, e: u32) -> bool {
  let te = band_tokens[e];
  if (te < 0) { return true; }
  let pe = priority(params.seed, s, u32(te));
  return p < pe || (p == pe && t < te);
}

@compute @workgroup_size(WG)
fn feature_bands(@builtin(global_invocation_id) gid: vec3<u32>) {
  let s = gid.x + gid.y * params.stride;
  let S = params.d_sae;
  if (s >= S) { return; }
  let hs = hist_scale[s];
  let bs = band_scale[s];
  for (var r = 0u; r < params.rows; r++) {
    let v = z[r * S + s];
    if (!(v > 0.0)) { continue; }
    let hb = min(NH - 1u, u32(floor(v * hs)));
    hist[s * NH + hb] += 1u;
    let b = min(NB - 1u, u32(floor(v * bs)));
    let t = params.row0 + r;
    let p = priority(params.seed, s, t);
    let base = (s * NB + b) * P;
    if (!beats(p, i32(t), s, base + P - 1u)) { continue; }
    var j = P - 1u;
    loop {
      if (j == 0u) { break; }
      if (!beats(p, i32(t), s, base + j - 1u)) { break; }
      band_values[base + j] = band_values[base + j - 1u];
      band_tokens[base + j] = band_tokens[base + j - 1u];
      j -= 1u;
    }
    band_values[base + j] = v;
    band_tokens[base + j] = i32(t);
  }
}
