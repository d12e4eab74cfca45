/**
 * "Export as SAELens training config": a Python script that trains the same architecture with the same
 * hyper-parameters at scale with SAELens v6 (`LanguageModelSAERunnerConfig` + the architecture's training SAE
 * config, run by `LanguageModelSAETrainingRunner`), with comments where a browser run and a cluster run differ
 * (model and hook, dataset, token budget, schedule, AuxK units). Field names are SAELens v6's
 * (sae_lens/config.py and sae_lens/saes/*.py); src/runs/fixtures/saelens-v6-fields.json lists them and a unit
 * test checks every keyword the script writes against it.
 */
import { archSpec } from '../sae/archs';
import { py } from '../sae/archs/saelens-kw';
import type { SaeLensKw as Kw } from '../sae/archs/spec';
import { deadWindowSteps } from '../train/config';
import { decaySteps } from '../train/schedule';
import type { RunMeta } from './library';

function call(cls: string, kws: Kw[], indent: string): string {
  const lines = kws.map(
    ([k, v, comment]) => `${indent}    ${k}=${v},${comment ? `  # ${comment.replace(/\n/g, ' ')}` : ''}`,
  );
  return `${cls}(\n${lines.join('\n')}\n${indent})`;
}

/** A Python string literal that is safe to embed (JSON escaping is valid Python for these strings). */
function pyStr(s: string): string {
  return JSON.stringify(s);
}

/**
 * The Python script for a run (see the module comment). `meta.dataset` and the dataset's safetensors metadata
 * (model / hook names, when the activations came with them) fill the model and hook; otherwise placeholders that
 * the user must replace are written, marked `# CHANGE`.
 */
export function saeLensScript(meta: RunMeta, datasetMetadata: Record<string, string> = {}): string {
  const c = meta.config;
  const info = meta.info;
  const D = info.shape.dModel;
  const S = info.shape.dSae;
  const B = c.batchSize;
  const arch = archSpec(c.architecture).saeLens.training;
  const tokens = c.steps * B;
  const dn = decaySteps(c);
  const model = datasetMetadata.model_name ?? datasetMetadata.model ?? '';
  const hook = datasetMetadata.hook_name ?? datasetMetadata.hook ?? '';
  const ds = meta.dataset;
  const dsLine =
    ds?.kind === 'file'
      ? `"${ds.name}" [${ds.nTokens}, ${ds.dModel}] float32, sha256 ${ds.fingerprint}`
      : ds?.kind === 'demo'
        ? `the built-in demo (${ds.id}: stories260K, residual stream after block 2)`
        : `"${info.datasetName}"`;
  const sae = call(
    arch.cls,
    [
      ['d_in', py(D), 'd_model of the browser dataset; must match the hook below'],
      ['d_sae', py(S)],
      ...arch.kwargs(c, S),
      ['apply_b_dec_to_input', 'True', 'pre = (x − b_dec)·W_enc + b_enc, as in the browser'],
      [
        'normalize_activations',
        c.normalize ? '"expected_average_only_in"' : '"none"',
        c.normalize ? 'browser: x scaled so that E‖x‖² = d_model' : 'browser: no normalisation',
      ],
      ['decoder_init_norm', '0.1'],
      ['dtype', '"float32"'],
      ['device', 'DEVICE'],
    ],
    '    ',
  );
  const scheduler: Kw[] =
    c.decay === 'none'
      ? [['lr_scheduler_name', '"constant"']]
      : [
          [
            'lr_scheduler_name',
            '"cosineannealing"',
            c.decay === 'linear'
              ? 'the browser decayed linearly; SAELens has no linear decay, cosine is the nearest'
              : 'browser: cosine decay to 0 over the last part of the run',
          ],
          ['lr_decay_steps', py(dn)],
          ['lr_end', '0.0', 'the browser decays to 0'],
        ];
  const runner = call(
    'LanguageModelSAERunnerConfig',
    [
      ['sae', sae],
      ['model_name', 'MODEL_NAME'],
      ['hook_name', 'HOOK_NAME'],
      ['dataset_path', 'DATASET_PATH'],
      ['is_dataset_tokenized', 'False', 'CHANGE to True for a pre-tokenised dataset'],
      ['streaming', 'True'],
      ['context_size', 'CONTEXT_SIZE'],
      ['training_tokens', 'TRAINING_TOKENS'],
      ['train_batch_size_tokens', py(B)],
      ['lr', py(c.lr)],
      ['lr_warm_up_steps', py(c.warmupSteps)],
      ...scheduler,
      ['adam_beta1', py(c.beta1)],
      ['adam_beta2', py(c.beta2), `browser Adam ε = ${c.eps}; SAELens uses torch's default`],
      [
        'dead_feature_window',
        py(deadWindowSteps(c)),
        'steps; the browser counts a latent dead after this many steps without firing',
      ],
      [
        'seed',
        py(c.seed),
        'same seed, different RNG: the cluster run will not match the browser bit for bit',
      ],
      ['device', 'DEVICE'],
      ['dtype', '"float32"'],
      ['n_checkpoints', '0'],
      [
        'logger',
        call(
          'LoggingConfig',
          [
            ['log_to_wandb', 'False'],
            ['run_name', pyStr(meta.name)],
          ],
          '    ',
        ),
      ],
    ],
    '',
  );
  return `"""SAELens v6 training script exported by SAE Lab ${meta.appVersion} from run ${pyStr(meta.name)} (${meta.id}).

The browser run: ${c.architecture}, d_model ${D}, d_sae ${S}, ${c.steps} steps × ${B} tokens = ${tokens} tokens,
lr ${c.lr}, seed ${c.seed}, on ${dsLine}.
Held-out result in the browser: explained variance ${meta.heldOutEv ?? 'n/a'}, L0 ${meta.l0 ?? 'n/a'}.

The browser trained on stored activations; SAELens generates activations from a model while it trains.
Lines marked CHANGE need your values. Install: pip install "sae-lens>=6,<7"
"""
from sae_lens import (
    LanguageModelSAERunnerConfig,
    LanguageModelSAETrainingRunner,
    LoggingConfig,
    ${arch.cls},
)

DEVICE = "cuda"
# CHANGE: the model and hook that produced the browser dataset${model ? ' (from the dataset metadata)' : ''}.
MODEL_NAME = ${pyStr(model || 'CHANGE-ME-model-name')}
HOOK_NAME = ${pyStr(hook || 'CHANGE-ME-hook-name')}
# CHANGE: a Hugging Face text dataset for that model. The browser run used ${dsLine.replace(/\n/g, ' ')}.
DATASET_PATH = "CHANGE-ME/dataset"
CONTEXT_SIZE = 128  # CHANGE: the context length the activations were harvested with
# Token budget: the browser run saw ${tokens} tokens (${c.steps} steps × ${B}); SAEs for real models are
# usually trained on 1e8–1e9 tokens. Scale warm-up and decay steps with it.
TRAINING_TOKENS = ${tokens}

cfg = ${runner}

if __name__ == "__main__":
    sae = LanguageModelSAETrainingRunner(cfg).run()
`;
}
