/**
 * CPU twin of shaders/batchtopk-plan.wgsl: the BatchTopK step's bucket choice and the indirect dispatch arguments
 * that run only that bucket's kernels.
 *
 * Shape legend: slots = recorded dispatches. gates u32 [slots, 4] = (x, y, z, gate) per dispatch, gate = the k_cap
 * of the bucket it belongs to (0 = the dense fallback); args u32 [slots, 3].
 */
import { batchTopkCap } from '../sae/formulas';

/** The plan of one step: the bucket (k_cap, 0 = dense) and the indirect arguments of every slot. */
export interface BatchTopKPlan {
  /** k_cap of the chosen bucket, or 0 when a row keeps more than 256 latents (dense path). */
  cap: number;
  /** u32 [slots, 3]: (x, y, z) of the slots whose gate equals cap, zeros elsewhere. */
  args: Uint32Array;
}

/**
 * Plan a step from the fullest row's kept count.
 * @param maxCount latents kept by the fullest row of the batch (batchTopkMaxRowCount)
 * @param dSae S
 * @param gates u32 [slots, 4] (x, y, z, gate)
 * @throws RangeError when gates is not a whole number of 4-word rows.
 */
export function batchTopkPlanCpu(maxCount: number, dSae: number, gates: Uint32Array): BatchTopKPlan {
  if (gates.length % 4 !== 0)
    throw new RangeError(`batchTopkPlanCpu: gates has ${gates.length} words, not a multiple of 4`);
  const cap = batchTopkCap(maxCount, dSae) ?? 0;
  const slots = gates.length / 4;
  const args = new Uint32Array(slots * 3);
  for (let i = 0; i < slots; i++) {
    if (gates[4 * i + 3] !== cap) continue;
    for (let c = 0; c < 3; c++) args[3 * i + c] = gates[4 * i + c];
  }
  return { cap, args };
}
