/**
 * The iframe protocol (docs/design.md, "Iframe protocol"), shared by the host element and `secure-widget/frame`. Every
 * message is checked by shape on arrival: anything that is not exactly one of these is ignored, never parsed further,
 * never echoed.
 *
 * window.postMessage (handshake):
 *   frame → parent  { type: 'secure-widget:hello', version: 1, instance? }   to each allowed host origin, never '*'
 *   host  → frame   { type: 'secure-widget:connect', version: 1 } + one transferred MessagePort, to src's origin
 * over the port:
 *   host  → frame   { type: 'token', token }  { type: 'reload' }
 *   frame → host    { type: 'ready' }  { type: 'expired', code? }  { type: 'resize', height }
 */

import { tokenFault } from './token-rules.js';

export const PROTOCOL_VERSION = 1;
export const HELLO = 'secure-widget:hello';
export const CONNECT = 'secure-widget:connect';

/** An expiry code is a short identifier, like the vendor's `token_expired`. */
const CODE = /^[\w.-]{1,64}$/;
/** A document-instance id the frame helper makes up per page load, so a replayed hello is told from a reloaded frame.
 * */
const INSTANCE = /^[\w-]{8,64}$/;

export type HostMessage = { type: 'token'; token: string } | { type: 'reload' };
export type FrameMessage = { type: 'ready' } | { type: 'expired'; code?: string } | { type: 'resize'; height: number };

export interface Hello {
  type: typeof HELLO;
  version: typeof PROTOCOL_VERSION;
  instance?: string;
}

function record(data: unknown): Record<string, unknown> | null {
  return typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : null;
}

function keysWithin(data: Record<string, unknown>, allowed: readonly string[]): boolean {
  return Object.keys(data).every((key) => allowed.includes(key));
}

/** A hello of this protocol version, or null. */
export function readHello(data: unknown): Hello | null {
  const message = record(data);
  if (!message || message.type !== HELLO || message.version !== PROTOCOL_VERSION) return null;
  if (!keysWithin(message, ['type', 'version', 'instance'])) return null;
  if (message.instance === undefined) return { type: HELLO, version: PROTOCOL_VERSION };
  if (typeof message.instance !== 'string' || !INSTANCE.test(message.instance)) return null;
  return { type: HELLO, version: PROTOCOL_VERSION, instance: message.instance };
}

export function isConnect(data: unknown): boolean {
  const message = record(data);
  return (
    !!message &&
    message.type === CONNECT &&
    message.version === PROTOCOL_VERSION &&
    keysWithin(message, ['type', 'version'])
  );
}

/** What the frame may say over the port; null for anything else. */
export function readFrameMessage(data: unknown): FrameMessage | null {
  const message = record(data);
  if (!message) return null;
  switch (message.type) {
    case 'ready':
      return keysWithin(message, ['type']) ? { type: 'ready' } : null;
    case 'expired':
      if (!keysWithin(message, ['type', 'code'])) return null;
      if (message.code === undefined) return { type: 'expired' };
      return typeof message.code === 'string' && CODE.test(message.code)
        ? { type: 'expired', code: message.code }
        : null;
    case 'resize':
      return keysWithin(message, ['type', 'height']) &&
        typeof message.height === 'number' &&
        Number.isFinite(message.height) &&
        message.height >= 0
        ? { type: 'resize', height: message.height }
        : null;
    default:
      return null;
  }
}

/** What the host may say over the port; null for anything else. */
export function readHostMessage(data: unknown): HostMessage | null {
  const message = record(data);
  if (!message) return null;
  if (message.type === 'reload') return keysWithin(message, ['type']) ? { type: 'reload' } : null;
  if (message.type !== 'token' || !keysWithin(message, ['type', 'token'])) return null;
  // The token rules every side applies (token-rules.ts): the frame takes no token the element would have refused.
  const { token } = message;
  return tokenFault(token) === null && token === (token as string).trim()
    ? { type: 'token', token: token as string }
    : null;
}
