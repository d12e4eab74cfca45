// rope: rotary position embedding in place on x (T, width), heads of size hs, row t at position t (llama2.c's
// interleaved pairs): (x[2i], x[2i+1]) ← (x0·c − x1·s, x0·s + x1·c), c/s = cos/sin(t · 10000^(−(2i mod hs)/hs)),
// read from host-computed tables (like llama2.c's freq_cis) so the angle is exact for any GPU's cos/sin.
// One invocation per pair. Entry point: rope. Override constants: WG.
// CPU twin: src/lm/forward-cpu.ts ropeCpu.

override WG: u32 = 64u;

struct Params {
  T: u32,
  width: u32,
  hs: u32,
  _pad0: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;  // (T, width)
@group(0) @binding(2) var<storage, read> cosv: array<f32>;     // (seq_len, hs/2)
@group(0) @binding(3) var<storage, read> sinv: array<f32>;     // (seq_len, hs/2)

//#include "linear_id.wgsl"

@compute @workgroup_size(WG, 1, 1)
fn rope(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let pairs = params.width / 2u;
  let p = linear_id(wg, nwg, lid);
  if (p >= params.T * pairs) { return; }
  let t = p / pairs;
  let i = (p % pairs) * 2u;
  let half = params.hs / 2u;
  let f = t * half + (i % params.hs) / 2u;
  let c = cosv[f];
  let s = sinv[f];
  let o = t * params.width + i;
  let x0 = x[o];
  let x1 = x[o + 1u];
  x[o] = x0 * c - x1 * s;
  x[o + 1u] = x0 * s + x1 * c;
}
