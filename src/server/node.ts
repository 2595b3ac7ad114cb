import type { IncomingMessage, ServerResponse } from 'node:http';

/** A Web-standard handler; `null` means "not mine" (the next middleware answers). */
export type WebHandler = (request: Request) => Promise<Response | null> | Response | null;

export type NodeListener = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void;

/**
 * For node:http, Express and connect (Vite) style middleware: `(req, res, next?)`. A null answer calls next(), or
 * 404 without next.
 */
export function toNodeListener(handler: WebHandler): NodeListener {
  if (typeof handler !== 'function') throw new TypeError('toNodeListener: handler must be a function');

  return (req, res, next) => {
    void serve(handler, req, res, next);
  };
}

async function serve(
  handler: WebHandler,
  req: IncomingMessage,
  res: ServerResponse,
  next: ((error?: unknown) => void) | undefined,
): Promise<void> {
  const controller = new AbortController();
  // `res` closes once the response is finished or the connection is gone; only the second is an abort.
  // (`req` 'close' is no use here: since Node 16 it fires as soon as the request body has been read.)
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });

  let request: Request;
  try {
    request = toRequest(req, controller.signal);
  } catch {
    // A Host header or method the URL parser or fetch rejects: the client's fault, and no handler to ask.
    sendJson(res, 400, 'bad-request', 'Bad request.');
    return;
  }

  let response: Response | null;
  try {
    response = await handler(request);
  } catch (error) {
    if (next) next(error);
    else sendJson(res, 500, 'internal', 'Internal server error.');
    return;
  }

  if (response === null || response === undefined) {
    if (next) next();
    else sendJson(res, 404, 'not-found', 'Not found.');
    return;
  }

  await writeResponse(req, res, response);
}

function toRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const encrypted = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  const host = req.headers.host ?? 'localhost';
  // Express and connect strip the mount path from req.url; the handler should see the URL the client asked for.
  const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  // Concatenated rather than resolved against a base: `new URL('//evil.example/x', base)` would change the host.
  const url = new URL(`${encrypted ? 'https' : 'http'}://${host}${path.startsWith('/') ? path : `/${path}`}`);

  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (:path, :authority) are not headers a Request may carry.
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }

  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (method !== 'GET' && method !== 'HEAD' && hasBody(req)) {
    init.body = lazyBody(req);
    // Node's fetch requires it for a streamed body; the request is read while the response is still unwritten.
    init.duplex = 'half';
  }
  return new Request(url, init);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * The request body as a web stream that touches `req` only when someone reads it. `Readable.toWeb` starts reading at
 * once, after which node:http no longer drains an unread body itself, and a keep-alive connection stalls behind it;
 * the token handler never reads the body.
 */
function lazyBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  let iterator: AsyncIterator<Buffer> | undefined;
  const chunks = (): AsyncIterator<Buffer> => (iterator ??= req[Symbol.asyncIterator]());
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await chunks().next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      },
      async cancel() {
        await iterator?.return?.();
      },
    },
    // Zero: no read-ahead, so an unread body stays unread.
    { highWaterMark: 0 },
  );
}

async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response): Promise<void> {
  if (res.destroyed) {
    // The client is gone; release whatever the handler was about to stream.
    await response.body?.cancel().catch(() => {});
    return;
  }
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const [name, value] of response.headers) {
    // Iteration yields each Set-Cookie on its own; setHeader would keep only the last, so they go in together.
    if (name !== 'set-cookie') res.setHeader(name, value);
  }
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);

  const noBody = req.method === 'HEAD' || response.status === 204 || response.status === 304;
  if (response.body === null || noBody) {
    await response.body?.cancel().catch(() => {});
    res.end();
    return;
  }
  // Read by hand rather than through Readable.fromWeb and pipeline, which cost more than the token handler itself:
  // the last chunk goes out with end(), so a small JSON answer leaves in one write with its headers.
  const reader = response.body.getReader();
  try {
    let chunk = await reader.read();
    while (!chunk.done) {
      const next = await reader.read();
      if (next.done) {
        res.end(chunk.value);
        return;
      }
      if (!res.write(chunk.value) && !(await drained(res))) {
        await reader.cancel();
        return;
      }
      chunk = next;
    }
    res.end();
  } catch {
    // Headers are out, so no error response is possible: cut the connection rather than send half a body.
    await reader.cancel().catch(() => {});
    res.destroy();
  }
}

/** Resolves true when `res` can take more, false when the client went away first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const settle = (value: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(value);
    };
    const onDrain = (): void => settle(true);
    const onClose = (): void => settle(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

function sendJson(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(JSON.stringify({ error: { code, message } }));
}
