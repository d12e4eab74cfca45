/**
 * The `lm` bench suite (issue 12): stories260K on the adapter — forward tokens/s (one prefill of a 256-token
 * document), harvest tokens/s (forward stopped after blocks.2.hook_resid_post, activations read back) and the ratio
 * (patched-CE evaluation time) ÷ (3 × one forward over the same tokens), which is close to 1 when the three passes
 * cost what plain forwards cost. CPU-twin forward time for the same tokens is reported for reference.
 */
import type { Gpu } from '../../src/gpu/device';
import { parseLlamaCheckpoint } from '../../src/lm/checkpoint';
import { lmForwardCpu } from '../../src/lm/forward-cpu';
import { GpuLlama, patchedCeGpu } from '../../src/lm/gpu/model';
import { Rng } from '../../src/util/rng';

/** Median of a non-empty list. */
function med(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

async function time(fn: () => Promise<unknown> | unknown, reps: number): Promise<number> {
  await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return med(out);
}

/** Run the suite; options.tokens sets the document length (default 256). */
export async function lmBench(gpu: Gpu, reps: number, options: Record<string, unknown>) {
  const r = await fetch(new URL('/lm/stories260K.bin', globalThis.location.href).href);
  const model = parseLlamaCheckpoint(new Uint8Array(await r.arrayBuffer()), 'stories260K.bin');
  const T = Number(options.tokens ?? 256);
  const rng = new Rng(3);
  const tokens = [1, ...Array.from({ length: T - 1 }, () => 3 + rng.int(509))];
  const gm = GpuLlama.create(gpu, model);
  const hook = 'blocks.2.hook_resid_post';
  try {
    const n = Math.max(1, Math.min(reps, 5));
    const forwardMs = await time(() => gm.tokenLosses(tokens), n);
    const harvestMs = await time(
      () => gm.forward(tokens, { hooks: { [hook]: { read: () => {} } }, stopAfter: hook }),
      n,
    );
    const patchedMs = await time(() => patchedCeGpu(gm, [tokens], hook, (x) => x.map((v) => v * 0.9)), n);
    const cpuMs = await time(() => lmForwardCpu(model, tokens), 1);
    return {
      model: model.name,
      tokens: T,
      forward_ms: forwardMs,
      forward_tokens_per_s: (T / forwardMs) * 1000,
      harvest_ms: harvestMs,
      harvest_tokens_per_s: (T / harvestMs) * 1000,
      patched_ce_ms: patchedMs,
      patched_ce_over_3_forwards: patchedMs / (3 * forwardMs),
      cpu_twin_forward_ms: cpuMs,
      cpu_over_gpu_forward: cpuMs / forwardMs,
    };
  } finally {
    gm.destroy();
  }
}
