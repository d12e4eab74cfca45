/** The sweep's grid, memory plan, results table, Pareto frontier and share link (no training). */
import { describe, expect, it } from 'vitest';
import type { RunMeta } from '../runs/library';
import { ShareLinkError } from '../runs/share';
import { DEFAULT_CONFIG, type TrainConfig } from '../train/config';
import { expandGrid, gridSize, parseNumberList, type SweepGrid, sparsityAxisOf } from './grid';
import { cpuLimits, gpuLimits, planGroups, saeMemory } from './memory';
import { paretoFrontier, sortRows, sweepCsv, sweepRows } from './results';
import { decodeSweepFragment, encodeSweepFragment } from './share';

const BASE: TrainConfig = { ...DEFAULT_CONFIG, batchSize: 512, steps: 300 };
const GRID: SweepGrid = {
  architectures: ['topk', 'batchtopk', 'jumprelu', 'relu'],
  dSaes: [256, 512],
  sparsity: { k: [4, 16], l0Coefficient: [0.1, 0.3, 1], l1Coefficient: [1] },
  lrs: [1e-3],
};

describe('sweep grid', () => {
  it('takes each architecture’s sparsity axis from the registry and expands in grid order', () => {
    expect(sparsityAxisOf('topk')).toBe('k');
    expect(sparsityAxisOf('jumprelu')).toBe('l0Coefficient');
    expect(sparsityAxisOf('relu')).toBe('l1Coefficient');
    const members = expandGrid(BASE, GRID);
    expect(members.length).toBe(gridSize(GRID));
    expect(members.length).toBe(2 * 2 + 2 * 2 + 2 * 3 + 2 * 1);
    expect(members[0].config).toMatchObject({ architecture: 'topk', dSae: 256, k: 4 });
    expect(members[9].config).toMatchObject({ architecture: 'jumprelu', dSae: 256, l0Coefficient: 0.3 });
    // Everything that cuts the batches is the base config's.
    expect(
      new Set(members.map((m) => `${m.config.seed}/${m.config.batchSize}/${m.config.heldOutFraction}`)).size,
    ).toBe(1);
  });

  it('names the run and the field of an invalid grid entry', () => {
    expect(() => expandGrid(BASE, { ...GRID, architectures: ['topk'], dSaes: [8] })).toThrow(
      /run 2 \(TopK, d_sae 8, k 16, lr 0.001\) is invalid: k: k \(16\) must not exceed d_sae \(8\)/,
    );
    expect(() => parseNumberList('4, x', 'k', true)).toThrow('k: "x" is not a positive whole number');
    expect(parseNumberList('4, 8 16;8', 'k', true)).toEqual([4, 8, 16]);
  });
});

describe('sweep memory estimate', () => {
  it('refuses a grid too big for the adapter, naming the numbers', () => {
    const c = { ...BASE, architecture: 'topk' as const, dSae: 1 << 20 };
    const m = saeMemory(c, 4096, 1 << 20);
    // W_enc [4096, 2^20] f32 = 16 GiB, over a 128 MiB binding limit.
    expect(m.largestBuffer).toBe(4096 * 2 ** 20 * 4);
    const plan = planGroups(
      [m],
      ['TopK d_sae 1048576'],
      gpuLimits({ maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 27 }),
    );
    expect(plan.ok).toBe(false);
    expect(!plan.ok && plan.message).toBe(
      "Sweep refused: SAE 1 (TopK d_sae 1048576) needs a W_enc [d_model, d_sae] buffer of 16.0 GiB, over the adapter's maxStorageBufferBindingSize of 128 MiB.",
    );
    // Within the buffer limit but over the budget: the message carries every part of the estimate.
    const mid = saeMemory({ ...c, dSae: 16384 }, 2048, 16384);
    const over = planGroups(
      [mid],
      ['TopK d_sae 16384'],
      gpuLimits({ maxBufferSize: 2 ** 31, maxStorageBufferBindingSize: 2 ** 31 }, 2 ** 30),
    );
    expect(over.ok).toBe(false);
    expect(!over.ok && over.message).toMatch(
      /^Sweep refused: SAE 1 \(TopK d_sae 16384\) needs 1\.\d\d GiB \(parameters 256 MiB \+ gradients 256 MiB \+ Adam moments 512 MiB \+ activations 1\d\d MiB\), over the 1\.00 GiB memory budget of the GPU engine\.$/,
    );
  });

  it('packs SAEs into groups within the budget and says which', () => {
    const members = expandGrid(BASE, {
      ...GRID,
      architectures: ['topk'],
      dSaes: [512],
      sparsity: { k: [4, 8, 16, 32] },
    });
    const mem = members.map((x) => saeMemory(x.config, 64, 512));
    // params 4·(2·64·512 + 512 + 64) = 264,448 B; total = 4·params + 4·512·(3·512 + 4·64) = 1,057,792 + 3,670,016.
    expect(mem[0].params).toBe(264_448);
    expect(mem[0].total).toBe(4 * 264_448 + 4 * 512 * (3 * 512 + 4 * 64));
    const one = planGroups(mem, ['a', 'b', 'c', 'd'], cpuLimits());
    expect(one.ok && one.groups).toEqual([[0, 1, 2, 3]]);
    const two = planGroups(mem, ['a', 'b', 'c', 'd'], cpuLimits(2.5 * mem[0].total));
    expect(two.ok && two.groups).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(two.ok && two.message).toMatch(
      /run in 2 groups, one after another: group 1 = SAEs 1–2 \(.+\), group 2 = SAEs 3–4/,
    );
  });
});

describe('sweep results', () => {
  const members = expandGrid(BASE, {
    ...GRID,
    architectures: ['topk', 'batchtopk'],
    dSaes: [512],
    sparsity: { k: [4, 16] },
  }).map((m, i) => ({ runId: `r${i}`, config: m.config }));
  const meta = (id: string, fvu: number, l0: number): RunMeta =>
    ({
      id,
      status: 'done',
      info: { shape: { dSae: 512 } },
      heldOutEv: 1 - fvu,
      fvu,
      l0,
      deadFraction: 0.1,
      ceLossScore: null,
    }) as unknown as RunMeta;
  const lib = [meta('r0', 0.4, 4), meta('r1', 0.2, 16), meta('r2', 0.35, 4.1), meta('r3', 0.25, 15)];

  it('builds sortable rows with CSV', () => {
    const rows = sweepRows(members, lib);
    expect(rows.map((r) => r.sparsityText)).toEqual(['k=4', 'k=16', 'k=4', 'k=16']);
    expect(sortRows(rows, 'fvu', 'asc').map((r) => r.runId)).toEqual(['r1', 'r3', 'r2', 'r0']);
    expect(sortRows(rows, 'ceLossScore', 'desc').map((r) => r.runId)).toEqual(['r0', 'r1', 'r2', 'r3']);
    const csv = sweepCsv(rows).trim().split(/\r?\n/);
    expect(csv[0]).toBe(
      'run_id,architecture,d_sae,sparsity,lr,status,held_out_ev,fvu,l0,dead_fraction,ce_loss_score',
    );
    expect(csv[2]).toBe('r1,topk,512,k=16,0.001,done,0.8,0.2,16,0.1,');
  });

  it('draws the Pareto frontier of L0 vs FVU (lower is better) and of L0 vs CE-loss score (higher is better)', () => {
    const pts = [
      { x: 4, y: 0.4, runId: 'a' },
      { x: 4.1, y: 0.35, runId: 'b' },
      { x: 15, y: 0.25, runId: 'c' },
      { x: 16, y: 0.3, runId: 'd' },
      { x: Number.NaN, y: 0, runId: 'e' },
    ];
    expect(paretoFrontier(pts, true).map((p) => p.runId)).toEqual(['a', 'b', 'c']);
    expect(paretoFrontier(pts, false).map((p) => p.runId)).toEqual(['a']);
  });
});

describe('sweep share links', () => {
  const dataset = { kind: 'demo' as const, id: 'stories260K-resid2' };
  const grid: SweepGrid = {
    architectures: ['topk', 'batchtopk'],
    dSaes: [512],
    sparsity: { k: [4, 16] },
    lrs: [1e-3],
  };

  it('round-trips base config, grid and dataset', () => {
    const frag = encodeSweepFragment({ base: BASE, grid, dataset });
    expect(frag.startsWith('sweep=1.')).toBe(true);
    expect(frag.length).toBeLessThan(1000);
    const back = decodeSweepFragment(`#${frag}`);
    expect(back.base).toEqual(BASE);
    expect(back.grid).toEqual(grid);
    expect(back.dataset).toEqual(dataset);
  });

  it('rejects damaged and invalid links with a message', () => {
    expect(() => decodeSweepFragment('sweep=1.@@')).toThrow(ShareLinkError);
    expect(() => decodeSweepFragment('sweep=9.abc')).toThrow(/newer SAE Lab/);
    const bad = encodeSweepFragment({
      base: BASE,
      grid: { ...grid, architectures: ['topk'] },
      dataset,
    }).replace('sweep=1.', '');
    expect(() => decodeSweepFragment(`sweep=1.${bad.slice(0, 10)}`)).toThrow(ShareLinkError);
    expect(() => encodeSweepFragment({ base: BASE, grid: { ...grid, dSaes: [8] }, dataset })).toThrow(
      /k \(16\) must not exceed d_sae \(8\)/,
    );
  });
});
