/**
 * The subgroup variants' sources (src/gpu/kernels/subgroups.ts) and the BatchTopK plan twin, without a GPU (the
 * browser tests in e2e/subgroups.spec.ts run both variants of every kernel against the CPU twins): each variant
 * enables subgroups, no plain snippet is left in it, the entry point is unchanged; a shader without the snippet is
 * refused; software adapters default to the plain variants; and the plan twin picks the buckets of batchTopkCap.
 */
import { describe, expect, it } from 'vitest';
import { batchTopkPlanCpu } from '../../reference/batchtopk-plan';
import type { AdapterSummary } from '../device';
import { archStatsSgShader } from './arch-stats';
import { evalSgShader } from './eval';
import { statsSgShader } from './stats';
import { preferSubgroups, REDUCE_SWAP, REDUCE2_SWAP, subgroupVariant, TOPK_SELECT_SWAP } from './subgroups';
import { topkSgShader } from './topk';

describe('subgroup variants', () => {
  it('enable subgroups and swap every snippet', () => {
    for (const [shader, swap, entry] of [
      [topkSgShader, TOPK_SELECT_SWAP, 'fn topk('],
      [statsSgShader, REDUCE2_SWAP, 'fn stats('],
      [evalSgShader, REDUCE_SWAP, 'fn eval_reduce('],
      [archStatsSgShader, REDUCE_SWAP, 'fn arch_stats('],
    ] as const) {
      expect(shader.code.startsWith('enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n')).toBe(true);
      expect(shader.code.includes(swap[0])).toBe(false);
      expect(shader.code.includes(swap[1])).toBe(true);
      expect(shader.code.includes(entry)).toBe(true);
      expect(shader.name.endsWith('+sg')).toBe(true);
    }
  });

  it('refuses a shader without the snippet', () => {
    expect(() => subgroupVariant({ name: 'x', code: 'fn main() {}' }, [REDUCE_SWAP])).toThrow(
      /subgroupVariant\(x\)/,
    );
  });

  it('defaults to the plain variants on software adapters and without the feature', () => {
    const base: AdapterSummary = {
      vendor: 'nvidia',
      architecture: 'hopper',
      device: '',
      description: '',
      isFallbackAdapter: false,
      features: ['subgroups'],
      subgroups: true,
      limits: {} as AdapterSummary['limits'],
    };
    const gpu = (a: Partial<AdapterSummary>) => ({ adapter: { ...base, ...a } }) as never;
    expect(preferSubgroups(gpu({}))).toBe(true);
    expect(
      preferSubgroups(gpu({ vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true })),
    ).toBe(false);
    expect(preferSubgroups(gpu({ subgroups: false }))).toBe(false);
  });
});

describe('batchTopkPlanCpu', () => {
  it('keeps the arguments of the chosen bucket only', () => {
    const gates = new Uint32Array([5, 1, 1, 16, 6, 2, 1, 32, 7, 1, 1, 0, 8, 1, 1, 203]);
    expect(batchTopkPlanCpu(3, 203, gates)).toEqual({
      cap: 16,
      args: new Uint32Array([5, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    });
    expect(batchTopkPlanCpu(17, 203, gates).args).toEqual(
      new Uint32Array([0, 0, 0, 6, 2, 1, 0, 0, 0, 0, 0, 0]),
    );
    expect(batchTopkPlanCpu(200, 203, gates).cap).toBe(203);
    expect(batchTopkPlanCpu(257, 203, gates)).toEqual({
      cap: 0,
      args: new Uint32Array([0, 0, 0, 0, 0, 0, 7, 1, 1, 0, 0, 0]),
    });
    expect(() => batchTopkPlanCpu(1, 203, new Uint32Array(3))).toThrow(/multiple of 4/);
  });
});
