/** Errors raised by the importer. Every message names the file (or dataset) and the problem. */

/** A file cannot be imported: bad header, unsupported dtype, truncated data, non-finite value, quota… */
export class ImportError extends Error {
  override name = 'ImportError';
  /**
   * @param file name of the offending file (or dataset) as the user knows it.
   * @param problem what is wrong, in plain words; the message becomes `"<file>": <problem>`.
   */
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`"${file}": ${problem}`);
  }
}

/** The user cancelled an import. Nothing was stored. */
export class ImportCancelled extends Error {
  override name = 'AbortError';
  constructor(what = 'import') {
    super(`${what} cancelled; nothing was stored`);
  }
}

/** True for an {@link ImportCancelled} (also after a trip through comlink, which keeps only name and message). */
export function isCancelled(e: unknown): boolean {
  return e instanceof Error && e.name === 'AbortError';
}

/**
 * True for an import refused over the storage quota: the importer's ImportError whose problem starts "over quota"
 * (the estimate said it cannot fit, or a write threw QuotaExceededError), also after a trip through comlink.
 */
export function isQuotaImportError(e: unknown): boolean {
  return e instanceof Error && e.name === 'ImportError' && /": over quota/.test(e.message);
}
