/**
 * Files the app ships under its base URL (public/: the built-in model in lm/, the demo's token ids in demo/), read
 * the same way by the patched-CE worker, the library's "Model & hook" form and the browser test harness.
 */

/**
 * Absolute URL of `path` under the app's base URL (Vite's BASE_URL, "/" by default), resolved against the page's
 * or worker's location. @param path relative to the base, e.g. "lm/stories260K.bin" (a leading "/" is ignored)
 */
export function appFileUrl(path: string): string {
  const base = import.meta.env.BASE_URL ?? '/';
  return new URL(`${base}${path.replace(/^\/+/, '')}`, globalThis.location.href).href;
}

/**
 * The bytes of `path` under the app's base URL (see {@link appFileUrl}).
 * @throws Error "<path>: HTTP <status>" on an HTTP error; fetch's own TypeError when the network fails.
 */
export async function fetchAppBytes(path: string): Promise<Uint8Array> {
  const r = await fetch(appFileUrl(path));
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
