/** Files under the app's base URL, for the lab's workers (models, tokenizers, the demo's token ids). */

/** Bytes of a file under the app's base URL. @throws Error naming the path on an HTTP error. */
export async function fetchBytes(path: string): Promise<Uint8Array> {
  const base = import.meta.env.BASE_URL ?? '/';
  const url = new URL(`${base}${path}`, globalThis.location.href).href;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
