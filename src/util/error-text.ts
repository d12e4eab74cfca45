/** Error messages for people: never empty. */
/**
 * A never-empty message for a thrown value: its message, else (a DOMException with an empty message) its name with
 * what to do.
 */
export function errorText(e: unknown): string {
  if (e instanceof Error || (typeof e === 'object' && e !== null && 'name' in e)) {
    const err = e as { name?: string; message?: string };
    if (err.message && err.message.trim() !== '') return err.message;
    if (err.name === 'QuotaExceededError')
      return 'QuotaExceededError: the browser refused to store more data; free space by deleting datasets or runs';
    return `${err.name ?? 'Error'} (no message given by the browser); try again, or reload the page`;
  }
  const t = String(e);
  return t.trim() === '' ? 'unknown error (nothing was reported); try again, or reload the page' : t;
}
