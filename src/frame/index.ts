/**
 * `secure-widget/frame`: the vendor side of the iframe protocol (docs/design.md, "Iframe protocol"), for the page a
 * host embeds with `<secure-widget src=…>`. It says hello to the parent, accepts one `MessagePort` from an allowed host
 * origin, hands each token to the widget and reports back over that port. It imports nothing but the protocol, so it
 * bundles alone into a vendor's page at a few hundred bytes.
 */
import { HELLO, PROTOCOL_VERSION, isConnect, readFrameMessage, readHostMessage } from '../protocol/messages.js';
import type { FrameMessage, Hello } from '../protocol/messages.js';
import { isSerializedOrigin } from '../protocol/origin.js';

export interface ConnectOptions {
  /**
   * Host page origins allowed to receive this frame's hello and to connect (exact origins like
   * 'https://shop.example'; never '*'). Whoever may connect may hand the widget its tokens: list only your customers.
   */
  allowedOrigins: readonly string[];
  /** A token for the widget: the first one, and each one the host fetched ahead of expiry. */
  onToken(token: string): void;
  /** The host asks the widget to reload with the token it last received. */
  onReload?(): void;
}

export interface HostConnection {
  /** The widget has its token and is rendered. */
  ready(): void;
  /** The widget's token was rejected or ran out (the iframe's `rai-error`); `code` like `token_expired`. */
  expired(code?: string): void;
  /** Content height in CSS px (the host bounds it); rounded up, and not re-sent while it is unchanged. */
  resize(height: number): void;
  /** Stops listening and closes the port; every later call is a no-op. */
  close(): void;
}

const CONTEXT = 'connectToHost';

// Made up once per document, so that the host can tell a reloaded frame (a new instance) from a replayed hello.
let documentInstance: string | undefined;

/**
 * Connects the widget in this frame to the host page that embeds it. Outside a frame there is no host: the connection's
 * methods do nothing, so the same page also works when opened on its own.
 *
 * @throws {TypeError} when `allowedOrigins` is not a non-empty list of serialized origins, or `onToken` not a function.
 */
export function connectToHost(options: ConnectOptions): HostConnection {
  const { allowedOrigins, onToken, onReload } = checkOptions(options);
  const framed = typeof window !== 'undefined' && window.parent !== window;

  let closed = !framed;
  let port: MessagePort | null = null;
  // Said before the host connected: sent, in order, as soon as it does. Only the latest height matters.
  const pending: FrameMessage[] = [];
  // The last height sent or queued, so that a ResizeObserver firing with an unchanged height costs nothing.
  let lastHeight: number | null = null;

  function send(message: FrameMessage): void {
    if (closed) return;
    if (port) {
      port.postMessage(message);
      return;
    }
    if (message.type === 'resize') {
      const queued = pending.findIndex((entry) => entry.type === 'resize');
      if (queued !== -1) pending.splice(queued, 1);
    }
    pending.push(message);
  }

  function receive(event: MessageEvent): void {
    const message = readHostMessage(event.data);
    if (!message) return;
    if (message.type === 'token') onToken(message.token);
    else onReload?.();
  }

  function acceptConnect(event: MessageEvent): void {
    // Only the embedding page, from an origin the vendor listed, may connect: a sibling frame, an opener or a page
    // that framed us without permission cannot hand the widget a token or read what it says.
    if (closed || port) return;
    if (event.source !== window.parent || !allowedOrigins.includes(event.origin)) return;
    if (!isConnect(event.data) || event.ports.length !== 1) return;
    const [connected] = event.ports;
    if (!connected) return;
    port = connected;
    // One connect per document: a later one (a script in the host page replaying the handshake) is never heard.
    window.removeEventListener('message', acceptConnect);
    // Assigning onmessage starts the port.
    port.onmessage = receive;
    for (const message of pending.splice(0)) port.postMessage(message);
  }

  if (framed) {
    window.addEventListener('message', acceptConnect);
    const hello: Hello = { type: HELLO, version: PROTOCOL_VERSION, instance: (documentInstance ??= makeInstanceId()) };
    // Addressed to each allowed origin, never '*': the browser delivers it only if the parent really is that origin.
    for (const origin of helloTargets(allowedOrigins)) window.parent.postMessage(hello, origin);
  }

  return {
    ready() {
      send({ type: 'ready' });
    },
    expired(code) {
      // The protocol's own validator decides: a code the host would drop is left out rather than sinking the message.
      const withCode = code === undefined ? null : readFrameMessage({ type: 'expired', code });
      send(withCode ?? { type: 'expired' });
    },
    resize(height) {
      if (typeof height !== 'number' || !Number.isFinite(height) || height < 0) {
        throw new TypeError(`${CONTEXT}: resize(height) needs a finite number of CSS px, 0 or more`);
      }
      // Whole pixels, rounded up: a fractional height rounded down would leave a scrollbar for the last sliver.
      const rounded = Math.ceil(height);
      if (closed || rounded === lastHeight) return;
      lastHeight = rounded;
      send({ type: 'resize', height: rounded });
    },
    close() {
      if (closed) return;
      closed = true;
      pending.length = 0;
      if (framed) window.removeEventListener('message', acceptConnect);
      if (port) {
        port.onmessage = null;
        port.close();
        port = null;
      }
    },
  };
}

interface CheckedOptions {
  allowedOrigins: readonly string[];
  onToken: (token: string) => void;
  onReload: (() => void) | undefined;
}

function checkOptions(options: ConnectOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${CONTEXT}: options must be an object`);
  const { allowedOrigins, onToken, onReload } = options;
  if (!Array.isArray(allowedOrigins) || allowedOrigins.length === 0) {
    throw new TypeError(`${CONTEXT}: allowedOrigins must be a non-empty array of origins like "https://shop.example"`);
  }
  allowedOrigins.forEach((origin: unknown, index) => {
    if (!isSerializedOrigin(origin)) {
      throw new TypeError(
        `${CONTEXT}: allowedOrigins[${index}] must be an origin like "https://shop.example" (scheme, host and port ` +
          `only; never "*" or "null"), got ${typeof origin === 'string' ? JSON.stringify(origin) : typeof origin}`,
      );
    }
  });
  if (typeof onToken !== 'function') throw new TypeError(`${CONTEXT}: onToken must be a function`);
  if (onReload !== undefined && typeof onReload !== 'function') {
    throw new TypeError(`${CONTEXT}: onReload must be a function when given`);
  }
  // A frozen copy: the caller changing its array later must not widen who may connect.
  return {
    allowedOrigins: Object.freeze([...(allowedOrigins as string[])]),
    onToken: (token) => onToken.call(options, token),
    onReload: onReload && (() => onReload.call(options)),
  };
}

/**
 * Where to send the hello. Chromium and WebKit name the parent's origin in `location.ancestorOrigins`: when it is one
 * of ours, the hello goes there alone and the console stays free of the browser's target-origin mismatch errors.
 * Elsewhere (Firefox, or a masked "null") every allowed origin is tried and the browser drops all but the right one.
 */
function helloTargets(allowedOrigins: readonly string[]): readonly string[] {
  const parentOrigin = typeof location !== 'undefined' ? location.ancestorOrigins?.[0] : undefined;
  return parentOrigin !== undefined && allowedOrigins.includes(parentOrigin) ? [parentOrigin] : allowedOrigins;
}

function makeInstanceId(): string {
  // getRandomValues, unlike randomUUID, works outside secure contexts too; 128 bits in hex fits [\w-]{8,64}.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
