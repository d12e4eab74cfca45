/**
 * One download per export: `<run>.saelens.zip` holding `<run>/cfg.json` and `<run>/sae_weights.safetensors`
 * (SAELens's folder layout, so `SAE.load_from_disk("<run>")` works after unzipping), built with fflate. The run's
 * name is in every path, so two exports never overwrite each other.
 */
import { strToU8, unzipSync, zipSync } from 'fflate';
import { SAELENS_CFG_FILE, SAELENS_WEIGHTS_FILE } from './saelens';

/**
 * A file-system-safe folder name for a run: letters, digits, '.', '_' and '-' kept, every other run of characters
 * turned into one '-', trimmed, at most 80 characters; "sae" when nothing is left.
 */
export function safeBaseName(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80);
  return s === '' ? 'sae' : s;
}

/** The zip's file name for base name `base`: `<base>.saelens.zip`. */
export function zipFileName(base: string): string {
  return `${base}.saelens.zip`;
}

/**
 * Zip cfg.json and the weights under folder `base` (stored, not deflated: safetensors barely compress).
 * @returns the zip bytes.
 */
export function zipSaeLens(base: string, cfgJson: string, safetensors: Uint8Array): Uint8Array {
  return zipSync(
    {
      [`${base}/${SAELENS_CFG_FILE}`]: [strToU8(cfgJson), { level: 6 }],
      [`${base}/${SAELENS_WEIGHTS_FILE}`]: [safetensors, { level: 0 }],
    },
    { mtime: new Date(2000, 0, 1) },
  );
}

/** Unzip an export (tests): path → bytes. */
export function unzipSaeLens(zip: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(zip);
}
