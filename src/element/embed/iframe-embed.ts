import { SecureWidgetError } from '../errors.js';
import { CONNECT, PROTOCOL_VERSION, readFrameMessage, readHello, type HostMessage } from '../../protocol/messages.js';
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
 * trap of Superset's auto-resize): the frame keeps the tallest height seen until it connects again.
 */
const MAX_RESIZES = 20;
const RESIZE_WINDOW = 1_000;

/**
 * Iframe mode (docs/design.md, "Iframe protocol"): the vendor's page in a sandboxed frame in the shadow root,
 * CSS-isolated, and the token handed over a MessageChannel port after a handshake that checks both the sender's window
 * and its origin. The token is never in the frame's URL, name or fragment, and never posted to a window, only over the
 * port.
 */
export class IframeEmbed implements Embed {
  /** Rendered by the element in its shadow root. */
  readonly frame: HTMLIFrameElement;
  readonly #host: EmbedHost;
  readonly #origin: string;
  readonly #autoHeight: boolean;
  readonly #signal: AbortSignal;
  #port: MessagePort | null = null;
  /** The hello instance of the document now connected: the same one again is a replay, not a reloaded frame. */
  #instance: string | null | undefined;
  #token: string | null = null;
  /** The token the connected document has: each one is sent once per port. */
  #delivered: string | null = null;
  #shown = false;
  #announced = false;
  #helloTimer: ReturnType<typeof setTimeout> | undefined;
  #reloadWaiters: (() => void)[] = [];
  #resizes: number[] = [];
  #heightFrozen = false;

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
    this.#helloTimer = setTimeout(() => {
      host.fail(
        new SecureWidgetError('frame-timeout', `The widget page did not answer within ${HELLO_TIMEOUT / 1000} s.`, {
          fatal: false,
        }),
        true,
      );
    }, HELLO_TIMEOUT);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(this.#helloTimer);
        this.#port?.close();
        this.#port = null;
        for (const resolve of this.#reloadWaiters.splice(0)) resolve();
      },
      { once: true },
    );
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
    if (!this.#port) return;
    const ready = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, RELOAD_TIMEOUT);
      this.#reloadWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#post({ type: 'reload' });
    await ready;
  }

  #onWindowMessage(event: MessageEvent): void {
    // Both checks: the origin alone would admit another frame of the vendor's site (or one it navigated to), the
    // window alone a frame that navigated elsewhere.
    if (event.source !== this.frame.contentWindow || event.origin !== this.#origin) return;
    const hello = readHello(event.data);
    if (!hello) return;
    const instance = hello.instance ?? null;
    if (this.#port && instance !== null && instance === this.#instance) return;
    this.#instance = instance;
    clearTimeout(this.#helloTimer);
    this.#connect();
  }

  /** A new port for each (re)loaded document; the old one is closed, so a page that navigated away hears nothing. */
  #connect(): void {
    this.#port?.close();
    this.#resizes = [];
    this.#heightFrozen = false;
    const { port1, port2 } = new MessageChannel();
    port1.addEventListener('message', (event) => this.#onPortMessage(port1, event), { signal: this.#signal });
    port1.start();
    this.#port = port1;
    this.#delivered = null;
    this.frame.contentWindow!.postMessage({ type: CONNECT, version: PROTOCOL_VERSION }, this.#origin, [port2]);
    this.#deliver();
  }

  #deliver(): void {
    if (!this.#port || this.#token === null || this.#token === this.#delivered) return;
    this.#post({ type: 'token', token: this.#token });
    this.#delivered = this.#token;
    this.#shown = true;
    this.#host.loaded(this.#token);
  }

  #post(message: HostMessage): void {
    this.#port?.postMessage(message);
  }

  #onPortMessage(port: MessagePort, event: MessageEvent): void {
    if (port !== this.#port) return;
    const message = readFrameMessage(event.data);
    if (!message) return;
    switch (message.type) {
      case 'ready':
        for (const resolve of this.#reloadWaiters.splice(0)) resolve();
        if (!this.#announced && this.#shown) {
          this.#announced = true;
          this.#host.ready();
        }
        return;
      case 'expired':
        this.#host.expired();
        // The frame's verdict on a reload: it is over, and the session looks at the rejection next.
        for (const resolve of this.#reloadWaiters.splice(0)) resolve();
        return;
      case 'resize':
        this.#resize(message.height);
    }
  }

  #resize(height: number): void {
    if (!this.#autoHeight || this.#heightFrozen) return;
    const next = Math.min(Math.ceil(height), MAX_AUTO_HEIGHT);
    const current = parseFloat(this.frame.style.height) || 0;
    if (Math.abs(next - current) < 1) return;
    const now = Date.now();
    this.#resizes = this.#resizes.filter((at) => now - at < RESIZE_WINDOW);
    this.#resizes.push(now);
    if (this.#resizes.length > MAX_RESIZES) {
      this.#heightFrozen = true;
      if (next <= current) return;
    }
    this.frame.style.height = `${next}px`;
  }
}
