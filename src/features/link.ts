/**
 * Deep links to one latent of a run's feature dashboard: `#feature=<run id>/<latent index>` (the run id
 * URI-encoded). Like a run's share link (`#run=…`) the link lives in the fragment and is checked on open.
 */

/** A parsed feature link. */
export interface FeatureLink {
  runId: string;
  latent: number;
}

/** Whether a location hash is a feature link. */
export function isFeatureFragment(hash: string): boolean {
  return hash.replace(/^#/, '').startsWith('feature=');
}

/** The fragment (without '#') of a link to latent `latent` of run `runId`. */
export function featureFragment(runId: string, latent: number): string {
  return `feature=${encodeURIComponent(runId)}/${latent}`;
}

/** The full URL of a feature link on the page at `base` (origin + path). */
export function featureUrl(base: string, runId: string, latent: number): string {
  return `${base}#${featureFragment(runId, latent)}`;
}

/**
 * Parse `#feature=<run>/<index>`.
 * @throws Error with a message for the page when the link is damaged (no run, no index, a bad index).
 */
export function parseFeatureFragment(hash: string): FeatureLink {
  const m = /^feature=([^/]+)\/(.*)$/.exec(hash.replace(/^#/, ''));
  if (!m) throw new Error('The feature link is damaged: it must be #feature=<run>/<latent index>.');
  let runId: string;
  try {
    runId = decodeURIComponent(m[1]);
  } catch {
    throw new Error('The feature link is damaged: its run id is not valid URI encoding.');
  }
  if (!/^\d{1,9}$/.test(m[2])) throw new Error(`The feature link's latent index "${m[2]}" is not a number.`);
  return { runId, latent: Number(m[2]) };
}
