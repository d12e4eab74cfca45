/** Registry of every GPU-vs-CPU check the browser tests can run, by name. Add one line per kernel. */
import { auxkCheck, batchtopkCheck, jumpreluCheck, reluL1Check } from './arch';
import { batchtopkPlanCheck, batchtopkStepsCheck } from './batchtopk-plan';
import { featurePassCheck, featureScatterCheck, featureStatsCheck, featureUnscatterCheck } from './features';
import {
  adamCheck,
  backwardCheck,
  decodeCheck,
  decoderConstraintCheck,
  encoderCheck,
  encoderTuneCheck,
  nonFiniteCheck,
  statsCheck,
  topkCheck,
} from './kernels';
import { lmGoldenCheck, lmKernelsCheck, lmOddCheck, lmPatchedCheck, lmPatchedDemoCheck } from './lm';
import { matmulCheck } from './matmul';
import { matryoshkaCheck } from './matryoshka';
import { saeEvalCheck, saeStateCheck, saeStepCheck, saeTrackCheck, saeTrainCheck } from './sae-step';
import { archStatsCheck, evalReduceCheck } from './subgroups';
import { sweepGpuCheck } from './sweep-gpu';
import { trainRunCheck } from './train-run';
import type { Check } from './types';

export const checks: Record<string, Check> = {
  matmul: matmulCheck,
  encoder: encoderCheck,
  'encoder-tune': encoderTuneCheck,
  topk: topkCheck,
  decode: decodeCheck,
  backward: backwardCheck,
  'decoder-constraint': decoderConstraintCheck,
  adam: adamCheck,
  stats: statsCheck,
  'eval-reduce': evalReduceCheck,
  'arch-stats': archStatsCheck,
  nonfinite: nonFiniteCheck,
  'sae-step': saeStepCheck,
  'sae-eval': saeEvalCheck,
  'sae-state': saeStateCheck,
  'sae-train': saeTrainCheck,
  'sae-track': saeTrackCheck,
  batchtopk: batchtopkCheck,
  'batchtopk-plan': batchtopkPlanCheck,
  'batchtopk-steps': batchtopkStepsCheck,
  jumprelu: jumpreluCheck,
  'relu-l1': reluL1Check,
  auxk: auxkCheck,
  matryoshka: matryoshkaCheck,
  'train-run': trainRunCheck,
  'sweep-gpu': sweepGpuCheck,
  'feature-stats': featureStatsCheck,
  'feature-scatter': featureScatterCheck,
  'feature-unscatter': featureUnscatterCheck,
  'feature-pass': featurePassCheck,
  'lm-kernels': lmKernelsCheck,
  'lm-odd': lmOddCheck,
  'lm-golden': lmGoldenCheck,
  'lm-patched': lmPatchedCheck,
  'lm-patched-demo': lmPatchedDemoCheck,
};
