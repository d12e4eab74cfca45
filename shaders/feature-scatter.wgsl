// feature-scatter: TopK latents (indices, values [R, k], from shaders/topk.wgsl) as dense latents z [R, S] for the
// feature pass's kernels: z = 0 everywhere, then z[r, indices[r, j]] = max(0, values[r, j]) (TopK SAE: z = ReLU of
// the kept pre-activations). CPU twin: scatterTopkCpu in src/features/pass.ts.
//
// Shapes: R = rows, S = d_sae, k. Entry points: feature_clear (one invocation per element of z), feature_scatter
// (one per (r, j)); recorded in that order in one compute pass. The feature pass keeps z zero between blocks
// instead: feature_scatter, the stats kernel, then feature_unscatter (one per (r, j): z[r, indices[r, j]] = 0),
// so a block costs R·k writes instead of R·S. Override constant: WG.

override WG: u32 = 64u;

struct Params {
  rows: u32,   // R
  d_sae: u32,  // S
  k: u32,      // k
  stride: u32, // invocations per dispatch row
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> indices: array<u32>;   // (R, k)
@group(0) @binding(2) var<storage, read> values: array<f32>;    // (R, k)
@group(0) @binding(3) var<storage, read_write> z: array<f32>;   // (R, S)

@compute @workgroup_size(WG)
fn feature_clear(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.stride;
  if (i >= params.rows * params.d_sae) { return; }
  z[i] = 0.0;
}

@compute @workgroup_size(WG)
fn feature_scatter(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.stride;
  if (i >= params.rows * params.k) { return; }
  let r = i / params.k;
  z[r * params.d_sae + indices[i]] = max(0.0, values[i]);
}

@compute @workgroup_size(WG)
fn feature_unscatter(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * params.stride;
  if (i >= params.rows * params.k) { return; }
  let r = i / params.k;
  z[r * params.d_sae + indices[i]] = 0.0;
}
