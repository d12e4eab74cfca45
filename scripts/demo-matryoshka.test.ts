/**
 * Matryoshka BatchTopK on the demo, on the fast CPU engine in Node (its wasm step path, src/cpu/matryoshka-step.ts;
 * e2e/arch-step.spec.ts ties it to the GPU engine): 300 steps, d_sae 512, k 8, lr 3e-3 (the
 * BatchTopK row of scripts/demo-table.test.ts). Held-out EV ≥ BatchTopK's − 0.03 at the same k, held-out L0 within
 * ±25% of k, θ > 0; then the SAELens export (JumpReLU + threshold) is read back with the lab's safetensors reader.
 */
import { describe, expect, it } from 'vitest';
import { bytesSource } from '../src/data/bytes';
import { readSafetensorsHeader } from '../src/data/safetensors';
import { exportSaeLens, foldNormalisation } from '../src/export/saelens';
import type { SaeParams } from '../src/sae/types';
import { DEFAULT_CONFIG, engineShape, type TrainConfig } from '../src/train/config';
import { DEMO, demo, LONG_MS, mean } from './demo-runs';

describe('Matryoshka BatchTopK on the demo (300 steps, CPU engine)', () => {
  it('held-out EV ≥ BatchTopK − 0.03 at k = 8, L0 ≈ k; exported as SAELens jumprelu and read back', {
    timeout: 2 * LONG_MS,
  }, async () => {
    const fast = { ...DEMO, lr: 3e-3 };
    const batch = await demo({ ...fast, architecture: 'batchtopk' });
    let trained: SaeParams | null = null;
    const config: Partial<TrainConfig> = { ...fast, architecture: 'matryoshka' };
    const m = await demo(config, 0, async (engine) => {
      trained = (await engine.getState()).params;
    });
    console.log(
      `[demo] Matryoshka − BatchTopK held-out EV: ${(m.held_out.explainedVariance - batch.held_out.explainedVariance).toFixed(4)}`,
    );
    expect(m.steps).toBe(300);
    expect(m.held_out.explainedVariance).toBeGreaterThanOrEqual(batch.held_out.explainedVariance - 0.03);
    expect(m.held_out.explainedVariance).toBeLessThan(1);
    expect(Math.abs(m.held_out.l0 - 8)).toBeLessThanOrEqual(0.25 * 8);
    expect(Math.abs(mean(m.series.l0) - 8)).toBeLessThan(0.05);
    expect(m.mean_threshold).toBeGreaterThan(0);

    if (!trained) throw new Error('the run did not hand back its parameters');
    const params: SaeParams = trained;
    const full = { ...DEFAULT_CONFIG, ...config } as TrainConfig;
    const shape = engineShape(full, 64, 512);
    const scale = 1.7;
    const info = { scale, runId: 'demo', datasetName: 'demo', steps: 300, tokens: 300 * 512, config: full };
    const out = exportSaeLens(params, shape, info);
    const cfg = JSON.parse(out.cfgJson);
    expect(cfg.architecture).toBe('jumprelu');
    expect(cfg.sae_lab.architecture).toBe('matryoshka');
    expect(cfg.sae_lab.k).toBe(8);
    const header = await readSafetensorsHeader(bytesSource('sae_weights.safetensors', out.safetensors));
    const folded = foldNormalisation(params, scale);
    const read = (name: string) => {
      const t = header.tensors.find((x) => x.name === name);
      if (!t) throw new Error(`no tensor ${name}`);
      const [a, b] = t.dataOffsets;
      const bytes = out.safetensors.slice(header.dataStart + a, header.dataStart + b);
      return { shape: t.shape, data: new Float32Array(bytes.buffer) };
    };
    expect(read('W_enc')).toEqual({ shape: [64, 512], data: folded.wEnc });
    expect(read('W_dec')).toEqual({ shape: [512, 64], data: folded.wDec });
    expect(read('b_enc')).toEqual({ shape: [512], data: folded.bEnc });
    expect(read('b_dec')).toEqual({ shape: [64], data: folded.bDec });
    expect(read('threshold')).toEqual({ shape: [512], data: params.threshold });
  });
});
