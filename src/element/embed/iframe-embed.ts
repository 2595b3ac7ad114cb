import { SecureWidgetError } from '../errors.js';
import { CONNECT, PROTOCOL_VERSION, readFrameMessage, readHello } from '../../protocol/messages.js';
import type { FrameConfig } from '../config.js';
import type { Embed, EmbedHost } from './embed.js';

/** No hello by then: `frame-timeout` (not fatal: a late hello still connects). */
export const HELLO_TIMEOUT = 10_000;
/** A reload waits this long for the frame's `ready` before it counts as done anyway. */
const RELOAD_TIMEOUT = 10_000;
/** Auto-height never goes past this: a frame whose content grows with its own height stops here. */
const MAX_AUTO_HEIGHT = 10_000;
/**
 * More height changes than this within RESIZE_WINDOW is a feedback loop (content sized by the frame's own height, the
 * trap of Superset's auto-resize): the frame keeps the tallest height seen until another document connects.
 */
const MAX_RESIZES = 20;
const RESIZE_WINDOW = 1_000;

/**
 * @internal
 * Where the handshake with the frame stands; the phase changes only in `IframeEmbed.#enter`, which ends what the phase
 * it leaves owned (its timer, its port).
 * - `waiting`: no checked hello yet. `timer` reports `frame-timeout` once, and the phase stays: a late hello connects.
 * - `connected`: the document that said hello (`instance`, null when it gave none) holds `port`. Its own data changes
 *   in place: `sent`, the token that port has (each one goes once per port), and `resizes`, the times of its recent
 *   auto-height changes, null once they were a loop (the height stays frozen until another document connects).
 * - `closed`: the signal aborted; nothing is sent or heard any more.
 */
type FramePhase =
  | { readonly name: 'waiting'; readonly timer: ReturnType<typeof setTimeout> }
  | Connection
  | { readonly name: 'closed' };

/** @internal The `connected` phase: one document of the frame, one port. */
interface Connection {
  readonly name: 'connected';
  readonly port: MessagePort;
  readonly instance: string | null;
  sent: string | null;
  resizes: number[] | null;
}

/**
 * Iframe mode (docs/design.md, "Iframe protocol"): the vendor's page in a sandboxed frame in the shadow root,
 * CSS-isolated, and the token handed over a MessageChannel port after a handshake that checks both the sender's window
 * and its origin. The token is never in the frame's URL, name or fragment, and never posted to a window, only over the
 * port.
 * @internal
 */
export class IframeEmbed implements Embed {
  /** Rendered by the element in its shadow root. */
  readonly frame: HTMLIFrameElement;
  readonly #host: EmbedHost;
  readonly #origin: string;
  readonly #autoHeight: boolean;
  readonly #signal: AbortSignal;
  #phase: FramePhase;
  /** The token in hand, whatever the phase: the next document to connect gets it. */
  #token: string | null = null;
  /**
   * `secure-widget-ready` fires once per embedding, on the first `ready` after a token reached the document saying it,
   * whichever document that is: a reloaded frame's new connection does not start it over.
   */
  #announced = false;
  /** Reloads waiting for a `ready`: the reloaded document says it on its new connection, so they outlive a port. */
  readonly #reloads: (() => void)[] = [];

  constructor(host: EmbedHost, src: URL, config: FrameConfig, signal: AbortSignal) {
    this.#host = host;
    this.#origin = src.origin;
    this.#autoHeight = config.height === null;
    this.#signal = signal;

    const frame = document.createElement('iframe');
    frame.setAttribute('part', 'frame');
    frame.setAttribute('sandbox', config.sandbox);
    if (config.allow) frame.setAttribute('allow', config.allow);
    frame.title = config.title;
    frame.referrerPolicy = config.referrerPolicy as ReferrerPolicy;
    if (config.height) frame.style.height = config.height;
    if (config.width) frame.style.width = config.width;
    this.frame = frame;

    // Listening before the frame exists: its hello cannot arrive before we are ready for it.
    window.addEventListener('message', (event) => this.#onWindowMessage(event), { signal });
    this.#phase = {
      name: 'waiting',
      timer: setTimeout(() => {
        host.fail(
          new SecureWidgetError('frame-timeout', `The widget page did not answer within ${HELLO_TIMEOUT / 1000} s.`, {
            fatal: false,
          }),
          true,
        );
      }, HELLO_TIMEOUT),
    };
    signal.addEventListener('abort', () => this.#enter({ name: 'closed' }), { once: true });
    // Only the vendor's page URL, as the page wrote it: nothing of ours goes into it.
    frame.src = src.href;
  }

  /** Each token goes to the frame as soon as it is here: the vendor page switches to it without a reload. */
  setToken(token: string): void {
    this.#token = token;
    this.#deliver();
  }

  async reload(token: string): Promise<void> {
    this.setToken(token);
    const phase = this.#phase;
    if (phase.name !== 'connected') return;
    const ready = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RELOAD_TIMEOUT);
      this.#reloads.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    phase.port.postMessage({ type: 'reload' });
    await ready;
  }

  /**
   * The one way from a phase to the next: the hello timer ends with `waiting`, a port with its connection (a page that
   * navigated away hears nothing more), the reloads still waiting with the last one.
   */
  #enter(next: FramePhase): void {
    const phase = this.#phase;
    if (phase.name === 'waiting') clearTimeout(phase.timer);
    if (phase.name === 'connected') phase.port.close();
    this.#phase = next;
    if (next.name === 'closed') this.#endReloads();
  }

  #onWindowMessage(event: MessageEvent): void {
    // Both checks: the origin alone would admit another frame of the vendor's site (or one it navigated to), the
    // window alone a frame that navigated elsewhere.
    if (event.source !== this.frame.contentWindow || event.origin !== this.#origin) return;
    const hello = readHello(event.data);
    if (!hello) return;
    const instance = hello.instance ?? null;
    const phase = this.#phase;
    // The same instance again is a replayed hello, not a reloaded document: its port stays.
    if (phase.name === 'connected' && instance !== null && instance === phase.instance) return;
    // A new port for each (re)loaded document.
    const { port1, port2 } = new MessageChannel();
    const connection: Connection = { name: 'connected', port: port1, instance, sent: null, resizes: [] };
    port1.addEventListener('message', (message) => this.#onPortMessage(connection, message), { signal: this.#signal });
    port1.start();
    this.#enter(connection);
    this.frame.contentWindow!.postMessage({ type: CONNECT, version: PROTOCOL_VERSION }, this.#origin, [port2]);
    this.#deliver();
  }

  #deliver(): void {
    const phase = this.#phase;
    const token = this.#token;
    if (phase.name !== 'connected' || token === null || token === phase.sent) return;
    phase.port.postMessage({ type: 'token', token });
    phase.sent = token;
    this.#host.vendorHas(token);
  }

  #onPortMessage(phase: Connection, event: MessageEvent): void {
    // Only the connection now in place is heard (an old port is closed, but may have delivered already).
    if (phase !== this.#phase) return;
    const message = readFrameMessage(event.data);
    if (!message) return;
    switch (message.type) {
      case 'ready':
        this.#endReloads();
        // A document gets the token in hand as it connects, before it can say anything: if none reached it, no token
        // reached any document yet.
        if (phase.sent !== null && !this.#announced) {
          this.#announced = true;
          this.#host.ready();
        }
        return;
      case 'expired':
        this.#host.expired();
        // The frame's verdict on a reload: it is over, and the session looks at the rejection next.
        this.#endReloads();
        return;
      case 'resize':
        this.#resize(phase, message.height);
    }
  }

  #endReloads(): void {
    for (const resolve of this.#reloads.splice(0)) resolve();
  }

  #resize(phase: Connection, height: number): void {
    if (!this.#autoHeight || !phase.resizes) return;
    const next = Math.min(Math.ceil(height), MAX_AUTO_HEIGHT);
    const current = parseFloat(this.frame.style.height) || 0;
    if (Math.abs(next - current) < 1) return;
    const now = Date.now();
    const recent = [...phase.resizes.filter((at) => now - at < RESIZE_WINDOW), now];
    phase.resizes = recent.length > MAX_RESIZES ? null : recent;
    // The change that reveals a loop still applies if it makes the frame taller; none after it does.
    if (phase.resizes || next > current) this.frame.style.height = `${next}px`;
  }
}
