/**
 * The one way the server reads a body that comes from outside: a client's request (request-guard.ts) and the vendor's
 * answer (exchange.ts). Either may be hostile or broken, so neither is ever read whole on trust. Internal.
 */

/**
 * The body of `message` if it is at most `limit` bytes, else `null`. A declared `Content-Length` over the limit (or one
 * that is no length at all) answers before a byte is read; a body that grows past the limit is cancelled at that
 * chunk and read no further, so a peer cannot make the server buffer more than `limit` and one chunk. Bytes are
 * counted as they arrive (after any content decoding the runtime does), not as declared: a declaration can lie.
 *
 * A read that fails (the peer hung up, a chunk that is not bytes) rejects with that error; once `signal` aborts, the
 * read stops and rejects with its reason, whether or not the stream itself heeds the signal.
 */
export async function readBoundedBody(
  message: { headers: Headers; body: ReadableStream<Uint8Array> | null },
  limit: number,
  signal?: AbortSignal,
): Promise<Uint8Array | null> {
  const { body } = message;
  const declared = message.headers.get('Content-Length');
  if (declared !== null) {
    const length = Number(declared);
    if (!Number.isSafeInteger(length) || length < 0 || length > limit) {
      void body?.cancel().catch(() => {});
      return null;
    }
  }
  if (body === null) return new Uint8Array(0);

  const reader = body.getReader();
  // A stream that ignores the signal (a custom fetch's, say) is cancelled from here, so a hung read ends with it.
  const stop = (): void => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener('abort', stop, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    signal?.throwIfAborted();
    for (;;) {
      const { done, value } = await reader.read();
      // A cancelled stream reads as done: without this a timed-out body would pass for a complete one.
      signal?.throwIfAborted();
      if (done) return concat(chunks, size);
      // A string or an object counts no bytes, and the limit would never be reached: only bytes are a body.
      if (!(value instanceof Uint8Array)) throw new TypeError('A body chunk is not a Uint8Array.');
      size += value.byteLength;
      if (size > limit) return null;
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    // After a complete read a no-op; otherwise what was not read is never read.
    reader.cancel().catch(() => {});
  }
}

function concat(chunks: readonly Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
