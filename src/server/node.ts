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
  let request: NodeRequest;
  try {
    request = toRequest(req);
  } catch {
    // A Host header or method the URL parser or fetch rejects: the client's fault, and no handler to ask.
    sendJson(res, 400, 'bad-request', 'Bad request.');
    return;
  }
  // `res` closes once the response is finished or the connection is gone; only the second is an abort.
  // (`req` 'close' is no use here: since Node 16 it fires as soon as the request body has been read.)
  res.once('close', () => {
    if (!res.writableFinished) request.clientGone();
  });

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

/**
 * A Request whose `signal` aborts when the client hangs up. Not `new Request(url, {signal})`: fetch's Request follows
 * such a signal through a WeakRef, a FinalizationRegistry and a listener of its own, which cost more than the rest of
 * the Request (profiled with `node --cpu-prof` under bench/server.mjs). Here the controller is made only when someone
 * reads `signal`, and aborted directly. A clone follows the same hang-up, as a clone of a fetch Request would.
 */
class NodeRequest extends Request {
  #controller: AbortController | undefined;
  #gone = false;

  override get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#gone) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  override clone(): Request {
    return new Request(super.clone(), { signal: this.signal });
  }

  /** The connection closed before the response was finished: whatever works for this request stops. */
  clientGone(): void {
    this.#gone = true;
    this.#controller?.abort();
  }
}

function toRequest(req: IncomingMessage): NodeRequest {
  const encrypted = (req.socket as { encrypted?: boolean } | null)?.encrypted === true;
  const host = req.headers.host ?? 'localhost';
  // Express and connect strip the mount path from req.url; the handler should see the URL the client asked for.
  const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  // Concatenated rather than resolved against a base: `new URL('//evil.example/x', base)` would change the host.
  // The Request parses it (a TypeError for a Host that is no host, which serve() answers with 400).
  const url = `${encrypted ? 'https' : 'http'}://${host}${path.startsWith('/') ? path : `/${path}`}`;

  // Name-value pairs, which the Request validates once; a Headers object of ours would be validated, then copied.
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(req.headers)) {
    // HTTP/2 pseudo-headers (:path, :authority) are not headers a Request may carry.
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.push([name, item]);
    else headers.push([name, value]);
  }

  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD' && hasBody(req)) {
    init.body = lazyBody(req);
    // Node's fetch requires it for a streamed body; the request is read while the response is still unwritten.
    init.duplex = 'half';
  }
  return new NodeRequest(url, init);
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
  // One flat list for writeHead, each header validated once. Iteration yields each Set-Cookie on its own: they go in
  // as one list, since a writeHead that follows a middleware's setHeader sets each name once. Headers a middleware set
  // before stay, unless the handler's answer names them too; but Set-Cookie adds and never replaces: a cookie is one
  // header line each, and a middleware's session cookie must not vanish because the handler set another.
  const headers: (string | string[])[] = [];
  const cookies: string[] = [];
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') cookies.push(value);
    else headers.push(name, value);
  }
  if (cookies.length > 0) {
    const earlier = res.getHeader('set-cookie');
    headers.push('set-cookie', [...(earlier === undefined ? [] : [earlier].flat().map(String)), ...cookies]);
  }

  // With writeHead, Node no longer counts the body that end() gets: a body known whole is given its length here (as
  // Node would have), and only a streamed one goes out chunked.
  const sized = (length: number): void => {
    if (!response.headers.has('content-length')) headers.push('Content-Length', String(length));
  };
  const noBody = req.method === 'HEAD' || response.status === 204 || response.status === 304;
  if (response.body === null || noBody) {
    await response.body?.cancel().catch(() => {});
    if (!noBody) sized(0);
    writeHead(res, response, headers);
    res.end();
    return;
  }
  // Read by hand rather than through Readable.fromWeb and pipeline, which cost more than the token handler itself.
  const reader = response.body.getReader();
  try {
    let chunk = await reader.read();
    let next = chunk.done ? chunk : await reader.read();
    if (next.done) {
      // The whole body in one chunk (a JSON answer): it leaves with its length, in one write with the headers.
      const body = chunk.done ? undefined : chunk.value;
      sized(body?.byteLength ?? 0);
      writeHead(res, response, headers);
      res.end(body);
      return;
    }
    writeHead(res, response, headers);
    while (!next.done) {
      if (!res.write(chunk.value) && !(await drained(res))) {
        await reader.cancel();
        return;
      }
      chunk = next;
      next = await reader.read();
    }
    res.end(chunk.value);
  } catch {
    // Headers may be out, so no error response is possible: cut the connection rather than send half a body.
    await reader.cancel().catch(() => {});
    res.destroy();
  }
}

function writeHead(res: ServerResponse, response: Response, headers: (string | string[])[]): void {
  if (response.statusText) res.writeHead(response.status, response.statusText, headers);
  else res.writeHead(response.status, headers);
}

/** Resolves true when `res` can take more, false when the client went away first. */
function drained(res: ServerResponse): Promise<boolean> {
  // A write after the client left also answers false, and 'close' may be past: waiting for it would never end, the
  // handler's stream never cancelled.
  if (res.destroyed) return Promise.resolve(false);
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
