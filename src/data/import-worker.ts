/**
 * The import worker: parses headers and streams files into IndexedDB shards off the main thread. It never
 * touches WebGPU. API: {@link ImportWorkerApi}.
 */
import * as Comlink from 'comlink';
import { appFileUrl } from '../lm/app-files';
import { harvestToStore } from '../lm/harvest-store';
import { BUILTIN_MODEL } from '../lm/provenance';
import { type ByteSource, blobSource, streamSource } from './bytes';
import { ImportError } from './errors';
import { ParallelFingerprint } from './fingerprint-parallel';
import type { ImportInput, ImportWorkerApi, InspectResult } from './import-api';
import { importDataset } from './importer';
import { inspectSource } from './inspect';
import { datasetStore } from './store';

const jobs = new Map<string, { aborted: boolean }>();

/** Fetch `url` as a forward-only stream (a Blob when the length is unknown or the body is encoded). */
async function urlSource(url: string, name: string): Promise<ByteSource> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new ImportError(name, `download failed (${(e as Error).message})`);
  }
  if (!res.ok)
    throw new ImportError(name, `download failed: HTTP ${res.status} ${res.statusText} for ${url}`);
  const length = Number(res.headers.get('content-length'));
  const encoding = res.headers.get('content-encoding');
  if (res.body && length > 0 && (!encoding || encoding === 'identity'))
    return streamSource(name, length, res.body);
  return blobSource(await res.blob(), name);
}

const api: ImportWorkerApi = {
  async inspect(files) {
    const out: InspectResult[] = [];
    for (const f of files) {
      try {
        out.push({ ok: true, inspection: await inspectSource(blobSource(f, f.name)) });
      } catch (e) {
        out.push({ ok: false, file: f.name, error: (e as Error).message });
      }
    }
    return out;
  },
  async import(jobId: string, inputs: ImportInput[], target, onProgress, options) {
    const flag = { aborted: false };
    jobs.set(jobId, flag);
    try {
      const files = [];
      for (const input of inputs) {
        if (input.kind === 'file')
          files.push({ source: blobSource(input.file, input.file.name), choice: input.choice });
        else files.push({ source: await urlSource(input.url, input.name) });
      }
      return await importDataset(datasetStore(), files, target, {
        signal: flag,
        onProgress: onProgress ? (p) => void onProgress(p) : undefined,
        fingerprint: options?.fingerprint,
        // The fingerprint is hashed in its own worker, in parallel with decoding and writing.
        fingerprinter: typeof Worker === 'undefined' ? undefined : async () => new ParallelFingerprint(),
      });
    } finally {
      jobs.delete(jobId);
    }
  },
  async harvest(jobId, input, onProgress) {
    const flag = { aborted: false };
    jobs.set(jobId, flag);
    try {
      const builtin = async (path: string) => {
        const name = path.replace(/^.*\//, '');
        const res = await fetch(appFileUrl(path)).catch((e) => {
          throw new ImportError(name, `download failed (${(e as Error).message})`);
        });
        if (!res.ok) throw new ImportError(name, `download failed: HTTP ${res.status}`);
        return { name, bytes: new Uint8Array(await res.arrayBuffer()) };
      };
      const file = async (f: File) => ({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
      const m = input.model;
      const [checkpoint, tokenizer] =
        m.kind === 'builtin'
          ? await Promise.all([builtin(BUILTIN_MODEL.checkpoint), builtin(BUILTIN_MODEL.tokenizer)])
          : await Promise.all([file(m.checkpoint), file(m.tokenizer)]);
      let text =
        input.text.kind === 'builtin' ? await builtin(BUILTIN_MODEL.text) : await file(input.text.file);
      if (input.limitDocuments !== undefined && /\.jsonl$/i.test(text.name)) {
        const lines = new TextDecoder()
          .decode(text.bytes)
          .split('\n')
          .filter((l) => l.trim() !== '');
        text = {
          name: text.name,
          bytes: new TextEncoder().encode(lines.slice(0, input.limitDocuments).join('\n')),
        };
      }
      return await harvestToStore(
        datasetStore(),
        { name: input.name, checkpoint, tokenizer, text, hook: input.hook, ctx: input.ctx },
        { signal: flag, onProgress: onProgress ? (p) => void onProgress(p) : undefined },
      );
    } finally {
      jobs.delete(jobId);
    }
  },
  cancel(jobId) {
    const j = jobs.get(jobId);
    if (j) j.aborted = true;
  },
};

Comlink.expose(api);
