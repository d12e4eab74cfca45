/**
 * The GPU engine's step paths by registry path name (src/sae/archs/spec.ts StepPathSpec.path). A new path = its
 * module here and one line in this table; the coordinator (src/gpu/sae-engine.ts) never changes.
 */
import type { StepPathSpec } from '../../sae/archs';
import type { GpuStepPathFactory } from '../step-path';
import { densePath } from './dense';
import { matryoshkaPath } from './matryoshka';
import { sparseBatchTopkPath } from './sparse-batchtopk';
import { sparseTopkPath } from './sparse-topk';

/** The step-path factory of each registry path name. */
export const GPU_STEP_PATHS: Readonly<Record<StepPathSpec['path'], GpuStepPathFactory>> = {
  'sparse-topk': sparseTopkPath,
  'sparse-batchtopk': sparseBatchTopkPath,
  dense: densePath,
  matryoshka: matryoshkaPath,
};
