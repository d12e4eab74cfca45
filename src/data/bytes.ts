/**
 * Byte sources: random (or forward-only) access to a file's bytes without holding the file in memory.
 * The importer reads headers and then data chunk by chunk through this one interface, so the same code runs on
 * a dropped `File` (Blob.slice), a `fetch` response body (ReadableStream) and, in unit tests, a Uint8Array.
 */
import { ImportError } from './errors';

/** Read access to one file's bytes. */
export interface ByteSource {
  /** File name as the user knows it (used in every error message). */
  readonly name: string;
  /** Size in bytes. */
  readonly size: number;
  /** False when reads must go forward (a network stream): such a source cannot serve Fortran-order data. */
  readonly randomAccess: boolean;
  /**
   * Bytes [offset, offset + length), clamped to the end of the file (a shorter result means end of file).
   * @throws ImportError on a read failure or, for forward-only sources, a read behind the current position.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Read exactly `length` bytes at `offset`. @throws ImportError "truncated" when the file ends first. */
export async function readExact(
  src: ByteSource,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const b = await src.read(offset, length);
  if (b.length < length)
    throw new ImportError(
      src.name,
      `truncated: ${what} needs bytes ${offset}..${offset + length} but the data ends at byte ${offset + b.length}`,
    );
  return b;
}

/** A source over bytes already in memory (unit tests, small files). */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    randomAccess: true,
    async read(offset, length) {
      return bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
    },
  };
}

/** A source over a Blob or File: each read is one `Blob.slice(...).arrayBuffer()`, so memory stays bounded. */
export function blobSource(blob: Blob, name = (blob as File).name ?? 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    randomAccess: true,
    async read(offset, length) {
      try {
        return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      } catch (e) {
        throw new ImportError(name, `could not be read (${(e as Error).message}); was it moved or changed?`);
      }
    },
  };
}

/** Bytes at the start of a stream kept for re-reading (headers are read more than once). */
export const STREAM_HEAD_CACHE = 2 ** 20;

/**
 * A forward-only source over a ReadableStream (e.g. a fetch response body). Reads must not go backwards, except
 * inside the first {@link STREAM_HEAD_CACHE} bytes, which are kept so that headers can be read again; data
 * between reads is skipped. Buffers at most one network chunk beyond what was asked for.
 * @param size the stream's total length (e.g. Content-Length); a stream that ends early makes reads short.
 */
export function streamSource(name: string, size: number, stream: ReadableStream<Uint8Array>): ByteSource {
  const reader = stream.getReader();
  let pos = 0; // file offset of pending[0]
  let pending: Uint8Array = new Uint8Array(0);
  let done = false;
  const head = new Uint8Array(Math.min(size, STREAM_HEAD_CACHE));
  let headLen = 0; // bytes [0, headLen) are in `head`
  const consume = (n: number) => {
    if (pos < head.length) {
      const k = Math.min(n, head.length - pos);
      head.set(pending.subarray(0, k), pos);
      headLen = pos + k;
    }
    pending = pending.subarray(n);
    pos += n;
  };
  return {
    name,
    size,
    randomAccess: false,
    async read(offset, length) {
      const want = Math.max(0, Math.min(length, size - offset));
      const out = new Uint8Array(want);
      let filled = 0;
      while (filled < want) {
        const at = offset + filled;
        if (at < headLen) {
          const k = Math.min(headLen - at, want - filled);
          out.set(head.subarray(at, at + k), filled);
          filled += k;
          continue;
        }
        if (at < pos)
          throw new ImportError(name, `internal: stream read at ${at} is behind the position ${pos}`);
        if (pending.length === 0) {
          if (done) break;
          let r: ReadableStreamReadResult<Uint8Array>;
          try {
            r = await reader.read();
          } catch (e) {
            throw new ImportError(name, `download failed (${(e as Error).message})`);
          }
          if (r.done) {
            done = true;
            break;
          }
          pending = r.value;
          continue;
        }
        if (pos < at) {
          consume(Math.min(at - pos, pending.length)); // skip
          continue;
        }
        const take = Math.min(pending.length, want - filled);
        out.set(pending.subarray(0, take), filled);
        consume(take);
        filled += take;
      }
      return filled === want ? out : out.subarray(0, filled);
    },
  };
}
