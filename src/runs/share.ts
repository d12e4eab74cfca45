/**
 * Share links: a run's config, seed, dataset reference and the app version in the URL fragment
 * (`#run=<format>.<data>`, never sent to a server).
 *
 * Encoding (format 1): `data` = base64url (RFC 4648 §5, no padding) of the raw DEFLATE (RFC 1951, fflate) of
 * the UTF-8 JSON `{v: 1, app, c, d}` — c the full validated config (every field, so a link does not depend on the
 * defaults of the app that opens it), d the {@link DatasetRef}. The format number is also outside the compressed
 * part, so a link from a newer app is recognised without decoding it.
 *
 * Decoding never trusts the link: the fragment is capped at {@link MAX_LINK_CHARS} characters and the inflated
 * JSON at {@link MAX_JSON_BYTES}; the JSON is checked by a valibot schema derived from the config's own field
 * schema (TrainConfigSchema: every field optional, no unknown field) and then by validateConfig's cross-field
 * rules. Every failure is a {@link ShareLinkError} whose message says what is wrong.
 */
import { deflateSync, Inflate, strFromU8, strToU8 } from 'fflate';
import * as v from 'valibot';
import { isFingerprint } from '../data/fingerprint';
import { type TrainConfig, TrainConfigSchema, validateConfig } from '../train/config';
import type { DatasetRef } from './dataset-ref';
import { APP_VERSION } from './version';

/** The link format this app writes and reads. */
export const SHARE_FORMAT = 1;
/** Longest fragment accepted (`run=…` included), characters. Links this app writes are far shorter. */
export const MAX_LINK_CHARS = 4000;
/** Largest inflated JSON accepted, bytes. */
export const MAX_JSON_BYTES = 16_384;

/** What a link carries. */
export interface SharedRun {
  /** The validated config (architecture and seed included). */
  config: TrainConfig;
  dataset: DatasetRef;
  /** Version of the app that wrote the link. */
  appVersion: string;
}

/** A link that cannot be used; the message is for the user. */
export class ShareLinkError extends Error {
  override name = 'ShareLinkError';
}

/** Text a link may carry in a name: no markup characters, no control characters, 1–200 characters. */
const SAFE_TEXT = /^[^<>"'`\\\p{Cc}]{1,200}$/u;

/** Schema of a {@link DatasetRef} in a link (also used by sweep links, src/sweep/share.ts). */
export const DatasetRefSchema = v.variant('kind', [
  v.strictObject({
    kind: v.literal('demo'),
    id: v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,100}$/, 'demo id has characters a demo id never has')),
  }),
  v.strictObject({
    kind: v.literal('file'),
    name: v.pipe(v.string(), v.regex(SAFE_TEXT, 'dataset name has characters that are not allowed')),
    nTokens: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Number.MAX_SAFE_INTEGER)),
    dModel: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1 << 20)),
    dtype: v.literal('f32'),
    fingerprint: v.pipe(
      v.string(),
      v.check((s: string) => isFingerprint(s), 'fingerprint must be 64 hexadecimal digits'),
    ),
  }),
]);

/** Schema of the decoded JSON: derived from the config's field schema, so every config field is covered. */
const PayloadSchema = v.strictObject({
  v: v.literal(SHARE_FORMAT),
  app: v.pipe(v.string(), v.regex(/^[0-9A-Za-z.+-]{1,32}$/, 'app version is malformed')),
  c: v.partial(v.strictObject(TrainConfigSchema.entries)),
  d: DatasetRefSchema,
});

/** base64url (RFC 4648 §5) without padding. */
export function base64url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decode base64url. @throws ShareLinkError when `s` is not base64url. */
function fromBase64url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1)
    throw new ShareLinkError('The link is damaged: its data is not valid base64url.');
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

/** Inflate with a size cap (a small link must not expand into megabytes). */
function inflateCapped(data: Uint8Array, cap: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let overflow = false;
  const inf = new Inflate((chunk) => {
    total += chunk.length;
    if (total > cap) overflow = true;
    else parts.push(chunk);
  });
  try {
    inf.push(data, true);
  } catch {
    throw new ShareLinkError('The link is damaged or truncated: its data does not decompress.');
  }
  if (overflow) throw new ShareLinkError(`The link's data expands beyond ${cap} bytes; it was not opened.`);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The fragment (without '#') of a link to `run`: `run=1.<base64url>`.
 * @throws ShareLinkError when the config is invalid (links always hold a valid config).
 */
export function encodeShareFragment(run: { config: TrainConfig; dataset: DatasetRef }): string {
  const checked = validateConfig(run.config);
  if (!checked.ok)
    throw new ShareLinkError(`The config is invalid: ${Object.values(checked.errors).join('; ')}`);
  const json = JSON.stringify({ v: SHARE_FORMAT, app: APP_VERSION, c: checked.config, d: run.dataset });
  return `run=${SHARE_FORMAT}.${base64url(deflateSync(strToU8(json), { level: 9 }))}`;
}

/** The full link: `base` (page URL, any fragment dropped) + '#' + the fragment. */
export function shareUrl(base: string, run: { config: TrainConfig; dataset: DatasetRef }): string {
  return `${base.split('#')[0]}#${encodeShareFragment(run)}`;
}

/** True when a URL fragment (with or without '#') is a share link (valid or not). */
export function isShareFragment(hash: string): boolean {
  return hash.replace(/^#/, '').startsWith('run=');
}

/**
 * The JSON of a link fragment `<prefix>=<format>.<data>` (with or without '#'): length cap, format number, base64url,
 * capped inflate and JSON parse — shared by run links and sweep links (src/sweep/share.ts).
 * @throws ShareLinkError naming the problem (too long, damaged, truncated, a future or unknown format, not JSON)
 */
export function decodeLinkJson(hash: string, prefix: 'run' | 'sweep'): unknown {
  const frag = hash.replace(/^#/, '');
  if (frag.length > MAX_LINK_CHARS)
    throw new ShareLinkError(
      `The link is ${frag.length} characters long; ${prefix} links are at most ${MAX_LINK_CHARS}. It was not opened.`,
    );
  const m = new RegExp(`^${prefix}=(\\d{1,6})\\.(.*)$`, 's').exec(frag);
  if (!m) throw new ShareLinkError(`The link is damaged: it does not start with ${prefix}=<format>.<data>.`);
  const format = Number(m[1]);
  if (format > SHARE_FORMAT)
    throw new ShareLinkError(
      `The link was made by a newer SAE Lab (link format ${format}; this version, ${APP_VERSION}, reads format ${SHARE_FORMAT}). Update the app to open it.`,
    );
  if (format !== SHARE_FORMAT) throw new ShareLinkError(`Unknown link format ${format}.`);
  if (m[2].length === 0) throw new ShareLinkError('The link is truncated: it carries no data.');
  const bytes = inflateCapped(fromBase64url(m[2]), MAX_JSON_BYTES);
  try {
    return JSON.parse(strFromU8(bytes));
  } catch {
    throw new ShareLinkError('The link is damaged or truncated: its data is not valid JSON.');
  }
}

/**
 * Decode and validate a fragment (with or without '#').
 * @throws ShareLinkError naming the problem: too long, damaged base64 / compression, a future format, a JSON
 *   that fails the schema (the field and the rule), or a config failing the cross-field rules.
 */
export function decodeShareFragment(hash: string): SharedRun {
  const { out, config } = checkLinkPayload(PayloadSchema, decodeLinkJson(hash, 'run'));
  return { config, dataset: out.d as DatasetRef, appVersion: out.app };
}

/**
 * Check a link's decoded JSON against its valibot `schema` (whose `c` is a partial TrainConfig), then the config's
 * cross-field rules — shared by run links and sweep links (src/sweep/share.ts).
 * @throws ShareLinkError naming the first invalid value (its path and rule) or the config's invalid fields
 */
export function checkLinkPayload<S extends v.GenericSchema<unknown, { c: unknown }>>(
  schema: S,
  json: unknown,
): { out: v.InferOutput<S>; config: TrainConfig } {
  const parsed = v.safeParse(schema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = v.getDotPath(issue) ?? '(top level)';
    throw new ShareLinkError(`The link holds an invalid value at "${path}": ${issue.message}.`);
  }
  const out = parsed.output;
  const checked = validateConfig(out.c);
  if (!checked.ok)
    throw new ShareLinkError(
      `The link's config is invalid: ${Object.entries(checked.errors)
        .map(([k, msg]) => `${k}: ${msg}`)
        .join('; ')}.`,
    );
  return { out, config: checked.config };
}
