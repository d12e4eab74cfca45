// decoder_constraint: unit-norm decoder rows (Gemma Scope §3.2, after Bricken et al. 2023). One invocation per
// latent s, sums over d in increasing order (as in src/reference/decoder-constraint.ts).
//   decoder_project   (before Adam):  ∂W_dec[s] ← ∂W_dec[s] − (⟨∂W_dec[s], W_dec[s]⟩ / ⟨W_dec[s], W_dec[s]⟩) · W_dec[s]
//   decoder_normalize (after Adam):   W_dec[s] ← W_dec[s] / ‖W_dec[s]‖
// Rows with zero norm are left unchanged.
//
// Shapes: S = d_sae, D = d_model. Entry points: decoder_project, decoder_normalize. Override constant: WG.

override WG: u32 = 64u;

struct Params {
  d_sae: u32,    // S
  d_model: u32,  // D
  _pad0: u32,
  _pad1: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> w_dec: array<f32>;    // (S, D)
@group(0) @binding(2) var<storage, read_write> g_w_dec: array<f32>;  // (S, D)

fn latent_id(wg: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return (wg.y * nwg.x + wg.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn decoder_project(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let s = latent_id(wg, nwg, lid);
  if (s >= params.d_sae) { return; }
  let D = params.d_model;
  let o = s * D;
  var gw = 0.0;
  var ww = 0.0;
  for (var d = 0u; d < D; d++) {
    let w = w_dec[o + d];
    gw += g_w_dec[o + d] * w;
    ww += w * w;
  }
  if (!(ww > 0.0)) { return; }
  let c = gw / ww;
  for (var d = 0u; d < D; d++) { g_w_dec[o + d] -= c * w_dec[o + d]; }
}

@compute @workgroup_size(WG)
fn decoder_normalize(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                     @builtin(local_invocation_index) lid: u32) {
  let s = latent_id(wg, nwg, lid);
  if (s >= params.d_sae) { return; }
  let D = params.d_model;
  let o = s * D;
  var ww = 0.0;
  for (var d = 0u; d < D; d++) { ww += w_dec[o + d] * w_dec[o + d]; }
  if (!(ww > 0.0)) { return; }
  let norm = sqrt(ww);
  for (var d = 0u; d < D; d++) { w_dec[o + d] = w_dec[o + d] / norm; }
}
