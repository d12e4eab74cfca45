/**
 * Sweep share links: the sweep's base config, its grid, the dataset reference and the app version in the URL
 * fragment, `#sweep=<format>.<data>`, with the encoding and the distrust of run links (src/runs/share.ts): `data` =
 * base64url of the raw DEFLATE of the UTF-8 JSON `{v: 1, app, c, g, d}` (c the full validated base config, g the
 * {@link SweepGrid}, d the DatasetRef); decoding caps the fragment and the inflated JSON, checks the JSON with a
 * valibot schema (the config's own field schema, the grid's axes from the registry) and expands the grid, which
 * validates every run's config. Every failure is a ShareLinkError naming the problem.
 */
import { deflateSync, strToU8 } from 'fflate';
import * as v from 'valibot';
import type { DatasetRef } from '../runs/dataset-ref';
import {
  base64url,
  checkLinkPayload,
  DatasetRefSchema,
  decodeLinkJson,
  SHARE_FORMAT,
  ShareLinkError,
} from '../runs/share';
import { APP_VERSION } from '../runs/version';
import { ARCHITECTURES } from '../sae/archs';
import { LIMITS, type TrainConfig, TrainConfigSchema, validateConfig } from '../train/config';
import { expandGrid, SPARSITY_AXES, type SweepGrid } from './grid';

/** Most values per grid axis (and so most runs per architecture: 16⁴; the form keeps grids far smaller). */
export const MAX_AXIS_VALUES = 16;

/** What a sweep link carries. */
export interface SharedSweep {
  base: TrainConfig;
  grid: SweepGrid;
  dataset: DatasetRef;
  appVersion: string;
}

const axis = <T extends v.GenericSchema<unknown, number>>(item: T) =>
  v.pipe(v.array(item), v.minLength(1), v.maxLength(MAX_AXIS_VALUES));

const positive = v.pipe(v.number(), v.finite(), v.gtValue(0));

const GridSchema = v.strictObject({
  architectures: v.pipe(
    v.array(v.picklist(ARCHITECTURES as readonly string[], 'unknown architecture')),
    v.minLength(1),
    v.maxLength(ARCHITECTURES.length),
  ),
  dSaes: axis(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(LIMITS.maxDSae))),
  sparsity: v.strictObject(Object.fromEntries(SPARSITY_AXES.map((a) => [a, v.optional(axis(positive))]))),
  lrs: axis(positive),
});

const PayloadSchema = v.strictObject({
  v: v.literal(SHARE_FORMAT),
  app: v.pipe(v.string(), v.regex(/^[0-9A-Za-z.+-]{1,32}$/, 'app version is malformed')),
  c: v.partial(v.strictObject(TrainConfigSchema.entries)),
  g: GridSchema,
  d: DatasetRefSchema,
});

/**
 * The fragment (without '#') of a link to a sweep: `sweep=1.<base64url>`.
 * @throws ShareLinkError when the base config or a run of the grid is invalid.
 */
export function encodeSweepFragment(s: { base: TrainConfig; grid: SweepGrid; dataset: DatasetRef }): string {
  const checked = validateConfig(s.base);
  if (!checked.ok)
    throw new ShareLinkError(`The config is invalid: ${Object.values(checked.errors).join('; ')}`);
  try {
    expandGrid(checked.config, s.grid);
  } catch (e) {
    throw new ShareLinkError((e as Error).message);
  }
  const json = JSON.stringify({
    v: SHARE_FORMAT,
    app: APP_VERSION,
    c: checked.config,
    g: s.grid,
    d: s.dataset,
  });
  return `sweep=${SHARE_FORMAT}.${base64url(deflateSync(strToU8(json), { level: 9 }))}`;
}

/** True when a URL fragment (with or without '#') is a sweep link (valid or not). */
export function isSweepFragment(hash: string): boolean {
  return hash.replace(/^#/, '').startsWith('sweep=');
}

/**
 * Decode and validate a sweep fragment (with or without '#').
 * @throws ShareLinkError naming the problem: too long, damaged, a future format, a value failing the schema (its
 *   path and rule), or a run of the grid failing the config's rules.
 */
export function decodeSweepFragment(hash: string): SharedSweep {
  const json = decodeLinkJson(hash, 'sweep');
  const { out, config } = checkLinkPayload(PayloadSchema, json);
  const grid = out.g as SweepGrid;
  try {
    expandGrid(config, grid);
  } catch (e) {
    throw new ShareLinkError((e as Error).message);
  }
  return { base: config, grid, dataset: out.d as DatasetRef, appVersion: out.app };
}
