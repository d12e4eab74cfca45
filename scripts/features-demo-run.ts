/**
 * A demo run's feature dashboard in Node (for notes and reviews): trains the config on the built-in demo with the
 * fast CPU engine (scripts/cpu-train-run.ts), runs the CPU feature pass (src/features/pass.ts) over the demo, and
 * prints per latent asked (or the densest live ones) its density, max activation, top contexts decoded with the
 * stories260K tokenizer (the top token in [brackets]), and logit effects. Started by scripts/features-demo.mjs.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { contextRange } from '../src/features/context';
import { logitEffects } from '../src/features/decoder';
import { featurePassCpu, TOP_N } from '../src/features/pass';
import { parseNpyI32 } from '../src/lm/behaviour';
import { parseLlamaCheckpoint } from '../src/lm/checkpoint';
import { inferenceSaeFromParams } from '../src/lm/sae-splice';
import { decode, decodePiece, parseTokenizer } from '../src/lm/tokenizer';
import { DEFAULT_CONFIG, engineShape, type TrainConfig } from '../src/train/config';
import { parseNpyF32 } from '../src/train/testing/npy';
import { cpuTrain, DEMO_NPY } from './cpu-train-run';

const pub = (p: string) => resolve(import.meta.dirname, '../public', p);

/** Train, pass, print (module comment). @returns the printed lines. */
export async function featuresDemo(
  config: Partial<TrainConfig>,
  latents: number[],
  shown: number,
  contexts: number,
) {
  const lines: string[] = [];
  const model = parseLlamaCheckpoint(
    new Uint8Array(await readFile(pub('lm/stories260K.bin'))),
    'stories260K.bin',
  );
  const tok = parseTokenizer(new Uint8Array(await readFile(pub('lm/tok512.bin'))), 'tok512.bin', 512);
  const tokens = parseNpyI32(new Uint8Array(await readFile(pub('demo/stories260K.tokens.npy'))), 'tokens');
  const piece = (id: number) => new TextDecoder().decode(decodePiece(tok, -1, id));
  let done: Promise<void> = Promise.resolve();
  await cpuTrain({
    npy: DEMO_NPY,
    config,
    encoderShrink: 0,
    traceEvery: 0,
    log: () => {},
    onDone: async (engine, summary) => {
      done = (async () => {
        const c = { ...DEFAULT_CONFIG, ...config };
        const params = (await engine.getState()).params;
        const shape = engineShape(c, engine.shape.dModel, engine.shape.dSae);
        const sae = inferenceSaeFromParams(params, shape, summary.scale);
        const npy = parseNpyF32(new Uint8Array(await readFile(DEMO_NPY)), DEMO_NPY);
        const D = npy.shape[1];
        const rows = {
          nTokens: npy.shape[0],
          read: async (a: number, n: number) => npy.data.subarray(a * D, (a + n) * D),
        };
        const t0 = performance.now();
        const st = await featurePassCpu(sae, rows);
        lines.push(
          `feature pass (CPU) over ${st.nTokens} tokens, d_sae ${st.dSae}: ${((performance.now() - t0) / 1000).toFixed(1)} s`,
        );
        const live = [...st.count.keys()].filter((s) => st.count[s] > 0);
        lines.push(`live latents ${live.length}, dead ${st.dSae - live.length}`);
        const pick = latents.length
          ? latents
          : live.sort((a, b) => st.count[b] - st.count[a]).slice(0, shown);
        for (const s of pick) {
          const d = st.count[s] / st.nTokens;
          lines.push(
            `\nlatent ${s}: log10 density ${d > 0 ? Math.log10(d).toFixed(2) : '-inf'}, max ${st.maxAct[s].toFixed(3)}`,
          );
          for (let j = 0; j < Math.min(TOP_N, contexts); j++) {
            const t = st.topTokens[s * TOP_N + j];
            if (t < 0) break;
            const [a, b] = contextRange(tokens, t);
            const text = `${decode(tok, tokens.subarray(a, t))}[${piece(tokens[t])}]${decode(tok, tokens.subarray(t + 1, b))}`;
            lines.push(`  ${st.topValues[s * TOP_N + j].toFixed(3)}  ${text.replace(/\n/g, '↵')}`);
          }
          const l = logitEffects(sae.wDec, D, s, model.wcls, model.rmsFinal);
          lines.push(`  logits up: ${l.top.map((e) => JSON.stringify(piece(e.token))).join(' ')}`);
          lines.push(`  logits down: ${l.bottom.map((e) => JSON.stringify(piece(e.token))).join(' ')}`);
        }
      })();
      await done;
    },
  });
  await done;
  return lines;
}
