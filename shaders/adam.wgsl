// adam: one Adam step with bias correction over a flat tensor, in place (Kingma & Ba 2015, Algorithm 1).
//   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²
//   p ← p − lr · (m / bc1) / (√(v / bc2) + ε),   bc1 = 1 − β1ᵗ, bc2 = 1 − β2ᵗ (computed on the host)
// β1 = 0 works (Gemma Scope §3.2): then m = g and bc1 = 1. CPU twin: src/reference/adam.ts.
//
// LOG_PARAM = 1 trains log p while p itself is stored (the JumpReLU threshold θ: Rajamanoharan et al. 2024;
// Gemma Scope §3.2, seed 004_5e13fcf757174fc0.txt): the step log p ← log p − Δ is applied as p ← p·exp(−Δ), so p
// stays positive and a saved state holds p exactly. CPU twin: src/reference/threshold.ts.
//
// Shapes: n = element count of the tensor; the gradient is grad[grad_offset + i] (the log-θ gradient is plane 3
// of the activation backward's col buffer). Entry point: adam. Override constants: WG, LOG_PARAM (0 or 1).

override WG: u32 = 256u;
override LOG_PARAM: u32 = 0u;

struct Params {
  lr: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  bc1: f32,
  bc2: f32,
  n: u32,
  grad_offset: u32,
  _pad1: u32,
  _pad2: u32,
};

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;  // (n)
@group(0) @binding(2) var<storage, read_write> m: array<f32>;      // (n) first moments
@group(0) @binding(3) var<storage, read_write> v: array<f32>;      // (n) second moments
@group(0) @binding(4) var<storage, read> grad: array<f32>;         // (grad_offset + n)

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wg.y * nwg.x + wg.x) * WG + lid;
  if (i >= params.n) { return; }
  let g = grad[params.grad_offset + i];
  let mi = params.beta1 * m[i] + params.one_minus_beta1 * g;
  let vi = params.beta2 * v[i] + params.one_minus_beta2 * (g * g);
  m[i] = mi;
  v[i] = vi;
  let step = params.lr * ((mi / params.bc1) / (sqrt(vi / params.bc2) + params.eps));
  if (LOG_PARAM == 1u) {
    param[i] = param[i] * exp(-step);
  } else {
    param[i] = param[i] - step;
  }
}
