// threshold_adam: Adam on log θ for the JumpReLU threshold, θ stored (Rajamanoharan et al. 2024; Gemma Scope §3.2,
// seed 004_5e13fcf757174fc0.txt). One invocation per latent:
//   g = ∂L/∂log θ (plane 3 of the activation backward's col buffer)
//   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  Δ = lr·(m/bc1)/(√(v/bc2) + ε);  θ ← θ·exp(−Δ)
// lr is the step's rate times arch.thresholdLrScale (host). CPU twin: src/reference/threshold.ts.
//
// Shapes: S = d_sae. Entry point: threshold_adam. Override constant: WG.

override WG: u32 = 256u;

struct Params {
  lr: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
  n: u32,  // S
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> theta: array<f32>;  // (S)
@group(0) @binding(2) var<storage, read_write> m: array<f32>;      // (S) first moments of log θ
@group(0) @binding(3) var<storage, read_write> v: array<f32>;      // (S) second moments of log θ
@group(0) @binding(4) var<storage, read> col: array<f32>;          // (4, S): plane 3 = ∂L/∂log θ

@compute @workgroup_size(WG)
fn threshold_adam(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid;
  let n = params.n;
  if (i >= n) { return; }
  let g = col[3u * n + i];
  let mi = params.beta1 * m[i] + params.one_minus_beta1 * g;
  let vi = params.beta2 * v[i] + params.one_minus_beta2 * (g * g);
  m[i] = mi;
  v[i] = vi;
  let step = params.lr * ((mi / params.bc1) / (sqrt(vi / params.bc2) + params.eps));
  theta[i] = theta[i] * exp(-step);
}
