import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npyBytes } from '../src/data/fixtures';
import { Rng } from '../src/util/rng';
import { cpuTrain } from './cpu-train-run';

const dir = await mkdtemp(join(tmpdir(), 'cpu-train-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A seeded [rows, d] '<f4' .npy of Gaussian activations. */
async function writeNpy(rows: number, d: number): Promise<string> {
  const rng = new Rng(7);
  const data = new Float32Array(rows * d);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  const path = join(dir, `x-${rows}x${d}.npy`);
  await writeFile(path, npyBytes({ descr: '<f4', shape: [rows, d], data: new Uint8Array(data.buffer) }));
  return path;
}

describe('cpu-train (trainer on the CPU engine in Node)', () => {
  it('runs to the end and reports the held-out metrics and the dead-latent trace', async () => {
    const npy = await writeNpy(2000, 12);
    const lines: string[] = [];
    const config = {
      dSae: 48,
      k: 3,
      batchSize: 64,
      steps: 12,
      warmupSteps: 2,
      seed: 3,
      deadWindowTokens: 256,
    };
    const r = await cpuTrain({ npy, config, encoderShrink: 0, traceEvery: 4, log: (l) => lines.push(l) });
    expect(r.steps).toBe(12);
    expect(r.data).toEqual({ file: npy, rows: 2000, d_model: 12 });
    expect(r.held_out.l0).toBeCloseTo(3, 6);
    expect(r.held_out.fvu).toBeGreaterThan(0);
    expect(r.held_out.explainedVariance).toBeCloseTo(1 - r.held_out.fvu, 12);
    expect(lines.map((l) => l.split(':')[0])).toEqual(['step 4', 'step 8', 'step 12']);
    // A bad init scale leaves more latents dead than the tied init does.
    const bad = await cpuTrain({ npy, config, encoderShrink: 3, traceEvery: 0, log: () => {} });
    expect(bad.dead_in_window).toBeGreaterThan(r.dead_in_window);
  });

  it('names the file when it is not an .npy', async () => {
    const path = join(dir, 'not.npy');
    await writeFile(path, 'hello');
    await expect(
      cpuTrain({ npy: path, config: {}, encoderShrink: 0, traceEvery: 0, log: () => {} }),
    ).rejects.toThrow(path);
  });
});
