/**
 * The built-in demo dataset shipped in public/demo/: real activations of llama2.c's stories260K model
 * (MIT licence), residual stream after block 2 ("resid_post.2"), 81 790 tokens × d_model 64, float32,
 * written by numpy (.npy v1.0). Provenance: public/demo/README.md.
 */
export const DEMO = {
  /** Fixed dataset id of the demo (a re-import replaces nothing else). */
  id: 'demo-stories260K-resid_post-2',
  /** Display name. */
  name: 'stories260K · layer 2 residual (demo)',
  /** File under public/demo/. */
  file: 'stories260K.resid_post.2.f32.npy',
  /** Expected shape [n_tokens, d_model]. */
  shape: [81790, 64] as const,
} as const;
