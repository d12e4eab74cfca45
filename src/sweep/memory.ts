/**
 * Memory of a sweep before it starts: an estimate per SAE, checked against the engine's limits, and the groups of
 * runs that fit together (a group trains at the same time on one batch stream; groups run one after another).
 *
 * Estimate per SAE (bytes, f32 = 4 bytes; B = batch, D = d_model, S = d_sae):
 *   parameters  P = 4·(2·D·S + S + D + S_θ)     W_enc, W_dec, b_enc, b_dec, θ [d_sae] when the registry's step
 *                                              path has a threshold (S_θ = S, else 0)
 *   gradients   P                              (both engines keep one gradient per parameter)
 *   Adam        2·P                            first and second moments
 *   activations 4·B·(3·S + 4·D)                pre-activations, latents and their gradient [B, d_sae]; x, x̂, the
 *                                              residual and its gradient [B, d_model] — an upper bound: the sparse
 *                                              TopK paths keep less
 * The largest single buffer is max(D·S, B·S)·4 bytes (W_enc / W_dec, or a [B, d_sae] activation), which must fit
 * the adapter's maxBufferSize and maxStorageBufferBindingSize (GPU), or a WebAssembly memory (CPU engine, 4 GiB
 * per SAE: each SAE has its own).
 */
import { archSpec } from '../sae/archs';
import type { TrainConfig } from '../train/config';

/** Bytes of one MiB / GiB. */
const MIB = 2 ** 20;
const GIB = 2 ** 30;

/** A WebAssembly (wasm32) memory's ceiling: 65,536 pages of 64 KiB. */
export const WASM_MEMORY_BYTES = 4 * GIB;

/**
 * Default budget of a whole group when the engine cannot say how much memory it has, bytes. WebGPU exposes no
 * total device memory, so the lab keeps a group within 2 GiB (fits integrated GPUs and a browser tab's heap).
 */
export const DEFAULT_GROUP_BUDGET_BYTES = 2 * GIB;

/** Memory of one SAE of a sweep, bytes. */
export interface SaeMemory {
  params: number;
  gradients: number;
  adam: number;
  activations: number;
  total: number;
  /** The largest single buffer and what it is. */
  largestBuffer: number;
  largestBufferName: string;
}

/** What the engine allows. */
export interface MemoryLimits {
  /** 'gpu': the adapter's buffer limits; 'cpu': the fast CPU engine (one wasm memory per SAE). */
  engine: 'gpu' | 'cpu';
  /** Largest single buffer, bytes (GPU: min(maxBufferSize, maxStorageBufferBindingSize); CPU: 4 GiB). */
  maxBufferBytes: number;
  /** Where maxBufferBytes comes from, for messages ("maxStorageBufferBindingSize"). */
  maxBufferName: string;
  /** Most bytes one group may hold at once. */
  budgetBytes: number;
}

/** GPU limits from the adapter's granted limits. */
export function gpuLimits(
  l: { maxBufferSize: number; maxStorageBufferBindingSize: number },
  budgetBytes = DEFAULT_GROUP_BUDGET_BYTES,
): MemoryLimits {
  const binding = l.maxStorageBufferBindingSize <= l.maxBufferSize;
  return {
    engine: 'gpu',
    maxBufferBytes: Math.min(l.maxBufferSize, l.maxStorageBufferBindingSize),
    maxBufferName: binding ? 'maxStorageBufferBindingSize' : 'maxBufferSize',
    budgetBytes,
  };
}

/** The fast CPU engine's limits. */
export function cpuLimits(budgetBytes = DEFAULT_GROUP_BUDGET_BYTES): MemoryLimits {
  return {
    engine: 'cpu',
    maxBufferBytes: WASM_MEMORY_BYTES,
    maxBufferName: 'the WebAssembly memory of one SAE',
    budgetBytes,
  };
}

/** The estimate of one SAE (formulas in the module comment). */
export function saeMemory(c: TrainConfig, dModel: number, dSae: number): SaeMemory {
  const D = dModel;
  const S = dSae;
  const B = c.batchSize;
  const theta = archSpec(c.architecture).step.threshold !== 'none' ? S : 0;
  const params = 4 * (2 * D * S + S + D + theta);
  const activations = 4 * B * (3 * S + 4 * D);
  const total = 4 * params + activations;
  const weights = D * S * 4;
  const act = B * S * 4;
  return {
    params,
    gradients: params,
    adam: 2 * params,
    activations,
    total,
    largestBuffer: Math.max(weights, act),
    largestBufferName: weights >= act ? 'W_enc [d_model, d_sae]' : 'latents [batch, d_sae]',
  };
}

/** Bytes as MiB or GiB with 3 significant digits. */
export function formatBytes(n: number): string {
  return n >= GIB ? `${(n / GIB).toPrecision(3)} GiB` : `${(n / MIB).toPrecision(3)} MiB`;
}

/** The plan of a sweep: refused with the numbers, or the groups that run one after another. */
export type MemoryPlan =
  | { ok: false; message: string }
  | {
      ok: true;
      /** Member indices of each group, in order. */
      groups: number[][];
      /** Bytes of each group. */
      groupBytes: number[];
      /** Sum over all SAEs. */
      totalBytes: number;
      /** One line for the form: "4 SAEs, 37.5 MiB in 1 group", or which runs go in which group. */
      message: string;
    };

/**
 * Check every SAE against the limits and pack the runs, in grid order, into groups within the budget (a new
 * group starts when the next SAE would not fit).
 * @param labels one short label per SAE for messages ("TopK d_sae 512 k 8 lr 0.001")
 * @returns ok: false with the numbers when one SAE alone does not fit (its largest buffer over the buffer limit,
 *   or its total over the budget).
 */
export function planGroups(mem: SaeMemory[], labels: string[], limits: MemoryLimits): MemoryPlan {
  for (let i = 0; i < mem.length; i++) {
    const m = mem[i];
    const parts = `parameters ${formatBytes(m.params)} + gradients ${formatBytes(m.gradients)} + Adam moments ${formatBytes(m.adam)} + activations ${formatBytes(m.activations)}`;
    if (m.largestBuffer > limits.maxBufferBytes) {
      return {
        ok: false,
        message:
          `Sweep refused: SAE ${i + 1} (${labels[i]}) needs a ${m.largestBufferName} buffer of ${formatBytes(m.largestBuffer)}, ` +
          `over the ${limits.engine === 'gpu' ? "adapter's " : ''}${limits.maxBufferName} of ${formatBytes(limits.maxBufferBytes)}.`,
      };
    }
    if (m.total > limits.budgetBytes) {
      return {
        ok: false,
        message:
          `Sweep refused: SAE ${i + 1} (${labels[i]}) needs ${formatBytes(m.total)} (${parts}), ` +
          `over the ${formatBytes(limits.budgetBytes)} memory budget of the ${limits.engine === 'gpu' ? 'GPU' : 'CPU'} engine.`,
      };
    }
  }
  const groups: number[][] = [];
  const groupBytes: number[] = [];
  for (let i = 0; i < mem.length; i++) {
    const g = groups.length - 1;
    if (g >= 0 && groupBytes[g] + mem[i].total <= limits.budgetBytes) {
      groups[g].push(i);
      groupBytes[g] += mem[i].total;
    } else {
      groups.push([i]);
      groupBytes.push(mem[i].total);
    }
  }
  const totalBytes = groupBytes.reduce((a, b) => a + b, 0);
  const n = mem.length;
  const message =
    groups.length <= 1
      ? `${n} SAE${n === 1 ? '' : 's'}: ${formatBytes(totalBytes)} in one group (budget ${formatBytes(limits.budgetBytes)}).`
      : `${n} SAEs: ${formatBytes(totalBytes)} do not fit the ${formatBytes(limits.budgetBytes)} budget at once; ` +
        `they run in ${groups.length} groups, one after another: ${groups
          .map(
            (g, j) =>
              `group ${j + 1} = SAEs ${g[0] + 1}–${g[g.length - 1] + 1} (${formatBytes(groupBytes[j])})`,
          )
          .join(', ')}. Each group reads the batches again.`;
  return { ok: true, groups, groupBytes, totalBytes, message };
}
