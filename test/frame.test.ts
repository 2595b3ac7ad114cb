import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import { connectToHost } from '../src/frame/index.js';
import type { ConnectOptions, HostConnection } from '../src/frame/index.js';
import { CONNECT, HELLO, PROTOCOL_VERSION, readFrameMessage, readHello } from '../src/protocol/messages.js';
import type { FrameMessage } from '../src/protocol/messages.js';
import type { VendorFrameStatus } from '../demo/vendor/frame-page.js';
import { HOST_ENDPOINT, testScope, tokenId, until } from './support/browser.js';

// This page plays the host. The vendor is another origin on the same server (docs/design.md, "The three sides").
const HOST_ORIGIN = location.origin;
const VENDOR_ORIGIN = `http://127.0.0.1:${location.port}`;
const CONNECT_MESSAGE = { type: CONNECT, version: PROTOCOL_VERSION };

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  document.body.replaceChildren();
});

/** What the host sees of one frame: the iframe, and the hello it said. */
interface OpenedFrame {
  iframe: HTMLIFrameElement;
  window: Window;
  hello: MessageEvent;
}

/** The next message this page receives from `source()`; other windows' messages are not it. */
function nextMessageFrom(source: () => MessageEventSource | null, timeout = 5_000): Promise<MessageEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      window.removeEventListener('message', listener);
      reject(new Error(`no message within ${timeout} ms`));
    }, timeout);
    function listener(event: MessageEvent): void {
      if (event.source === null || event.source !== source()) return;
      clearTimeout(timer);
      window.removeEventListener('message', listener);
      resolve(event);
    }
    window.addEventListener('message', listener);
  });
}

/** Embeds the vendor's frame.html, as `<secure-widget src>` would, and waits for its hello. */
async function openVendorFrame({
  origin = VENDOR_ORIGIN,
  query = 'community-id=42&user-id=u1',
  height,
}: {
  origin?: string;
  query?: string;
  height?: number;
} = {}): Promise<OpenedFrame> {
  const iframe = document.createElement('iframe');
  iframe.src = `${origin}/vendor/frame.html?${query}`;
  if (height !== undefined) iframe.style.height = `${height}px`;
  const hello = nextMessageFrom(() => iframe.contentWindow);
  document.body.append(iframe);
  return { iframe, window: iframe.contentWindow!, hello: await hello };
}

/** The host's end of one MessageChannel, recording what the frame says. */
class HostEnd {
  readonly received: unknown[] = [];
  constructor(readonly port: MessagePort) {
    port.onmessage = (event) => this.received.push(event.data);
  }
  send(message: unknown): void {
    this.port.postMessage(message);
  }
  of<T extends FrameMessage['type']>(type: T): Extract<FrameMessage, { type: T }>[] {
    return this.received.filter((message) => (message as FrameMessage).type === type) as Extract<
      FrameMessage,
      { type: T }
    >[];
  }
  async waitFor(type: FrameMessage['type'], count = 1): Promise<void> {
    await until(() => this.of(type).length >= count, `${count} "${type}" message(s) from the frame`);
  }
}

/**
 * Resolves once `target` (this page's window or a same-origin frame's, which share this page's thread) has dispatched a
 * marker posted now: a window handles messages in the order they were posted to it, so every message posted to it
 * before (a connect, a hello) has been handled by then.
 */
function handled(target: Window): Promise<void> {
  const marker = `test:handled:${Math.random()}`;
  return new Promise((resolve) => {
    const listener = (event: MessageEvent) => {
      if (event.data !== marker) return;
      target.removeEventListener('message', listener);
      resolve();
    };
    target.addEventListener('message', listener);
    target.postMessage(marker, '*');
  });
}

/** What a same-origin frame does with MessagePorts: which it listens on, what it posts on which, which it closes. */
interface PortWatch {
  listened: Set<MessagePort>;
  posted: { port: MessagePort; data: unknown }[];
  closed: Set<MessagePort>;
}

/**
 * Watches the ports of the frame's realm from now on. A port delivers nothing before it is started (`onmessage` or
 * `start()`), so "the frame listens on this port only" says, at once and for good, that nothing sent on any other
 * port is ever heard.
 */
function watchPorts(inner: Window): PortWatch {
  const watch: PortWatch = { listened: new Set(), posted: [], closed: new Set() };
  const proto = (inner as Window & typeof globalThis).MessagePort.prototype;
  const onmessage = Object.getOwnPropertyDescriptor(proto, 'onmessage')!;
  Object.defineProperty(proto, 'onmessage', {
    ...onmessage,
    set(this: MessagePort, handler: unknown) {
      if (handler) watch.listened.add(this);
      onmessage.set!.call(this, handler);
    },
  });
  const { start, postMessage, close } = proto;
  proto.start = function (this: MessagePort) {
    watch.listened.add(this);
    start.call(this);
  };
  proto.postMessage = function (this: MessagePort, ...args: [unknown, ...unknown[]]) {
    watch.posted.push({ port: this, data: args[0] });
    (postMessage as (...rest: unknown[]) => void).apply(this, args);
  };
  proto.close = function (this: MessagePort) {
    watch.closed.add(this);
    close.call(this);
  };
  return watch;
}

/** Transfers a port to the frame with a connect, as the host does on hello. */
function connect(target: Window, origin: string): HostEnd {
  const channel = new MessageChannel();
  target.postMessage(CONNECT_MESSAGE, origin, [channel.port2]);
  return new HostEnd(channel.port1);
}

/** A real token from the host backend (the access-key exchange with the reference vendor). */
async function hostToken(endpoint = HOST_ENDPOINT): Promise<string> {
  const response = await fetch(endpoint, { headers: { Accept: 'application/json' } });
  const body = (await response.json()) as { embedToken?: string; token?: string };
  const token = body.embedToken ?? body.token;
  if (!token) throw new Error(`no token from ${endpoint}`);
  return token;
}

function expiryOf(token: string): number {
  const payload = JSON.parse(atob(token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number };
  return payload.exp * 1000;
}

describe('the vendor iframe page says hello to the page that embeds it', () => {
  it('sends a hello of this protocol version, from the frame window and the vendor origin', async () => {
    const { iframe, hello } = await openVendorFrame();
    expect(hello.origin).to.equal(VENDOR_ORIGIN);
    expect(hello.source).to.equal(iframe.contentWindow);
    expect(readHello(hello.data)).to.deep.equal(hello.data);
    expect(Object.keys(hello.data as object).sort()).to.deep.equal(['instance', 'type', 'version']);
    expect(hello.data).to.include({ type: HELLO, version: PROTOCOL_VERSION });
    expect((hello.data as { instance: string }).instance).to.match(/^[\w-]{8,64}$/);
    // The hello carries no port: the host must transfer its own, so the frame never talks to a page that did not answer.
    expect(hello.ports).to.have.length(0);
  });

  it('makes up a new instance for each document, so a reloaded frame is told from a replayed hello', async () => {
    const frame = await openVendorFrame();
    const again = nextMessageFrom(() => frame.iframe.contentWindow);
    frame.iframe.src = `${frame.iframe.src}&again=1`;
    const second = await again;
    expect(readHello(second.data)?.instance).to.be.a('string');
    expect(readHello(second.data)?.instance).not.to.equal(readHello(frame.hello.data)?.instance);
  });
});

describe('the vendor iframe page renders with the tokens its host sends', () => {
  it('answers a token with ready and its content height', async () => {
    const frame = await openVendorFrame();
    const host = connect(frame.window, VENDOR_ORIGIN);
    host.send({ type: 'token', token: await hostToken() });
    await host.waitFor('ready');
    await host.waitFor('resize');
    const heights = host.of('resize').map((message) => message.height);
    expect(heights.every((height) => Number.isInteger(height) && height > 0)).to.equal(true);
    // Every message is one the host's validator accepts, as is: nothing extra, nothing malformed.
    for (const message of host.received) expect(readFrameMessage(message)).to.deep.equal(message);
  });

  it('ignores a second connect', async () => {
    // From the host's origin, so that the test can see which ports the page listens on.
    const frame = await openVendorFrame({ origin: HOST_ORIGIN });
    const ports = watchPorts(frame.window);
    const host = connect(frame.window, HOST_ORIGIN);
    host.send({ type: 'token', token: await hostToken() });
    await host.waitFor('ready');

    const intruder = connect(frame.window, HOST_ORIGIN);
    intruder.send({ type: 'reload' });
    intruder.send({ type: 'token', token: 'not-a-token' });
    host.send({ type: 'reload' });
    await host.waitFor('ready', 2);
    // The intruder's connect has been handled: the page listens on one port, the host's, and speaks on no other.
    await handled(frame.window);
    expect(ports.listened.size).to.equal(1);
    expect(ports.posted.every(({ port }) => ports.listened.has(port))).to.equal(true);
    expect(intruder.received).to.deep.equal([]);
    expect(host.of('expired')).to.deep.equal([]);
  });

  it('reloads with the token it has on {type: "reload"}, and is ready again', async () => {
    const frame = await openVendorFrame();
    const host = connect(frame.window, VENDOR_ORIGIN);
    host.send({ type: 'token', token: await hostToken() });
    await host.waitFor('ready');
    host.send({ type: 'reload' });
    await host.waitFor('ready', 2);
    host.send({ type: 'reload' });
    await host.waitFor('ready', 3);
    expect(host.of('expired')).to.deep.equal([]);
  });

  it('reports expired with token_invalid for a token that fails verification', async () => {
    const frame = await openVendorFrame();
    const host = connect(frame.window, VENDOR_ORIGIN);
    const token = await hostToken();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    host.send({
      type: 'token',
      token: `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`,
    });
    await host.waitFor('expired');
    expect(host.of('expired')).to.deep.equal([{ type: 'expired', code: 'token_invalid' }]);
    expect(host.of('ready')).to.deep.equal([]);
  });

  it('reports expired with token_expired for a token that has run out, and recovers with a fresh one', async () => {
    const scope = await testScope({ respond: 'expired' });
    const frame = await openVendorFrame();
    const host = connect(frame.window, VENDOR_ORIGIN);
    host.send({ type: 'token', token: await hostToken(scope.endpoint) });
    await host.waitFor('expired');
    expect(host.of('expired')).to.deep.equal([{ type: 'expired', code: 'token_expired' }]);

    host.send({ type: 'token', token: await hostToken() });
    await host.waitFor('ready');
  });

  it('ignores what is not a host message of the protocol', async () => {
    const frame = await openVendorFrame();
    const host = connect(frame.window, VENDOR_ORIGIN);
    for (const junk of [
      { type: 'token' },
      { type: 'token', token: 5 },
      { type: 'token', token: '' },
      { type: 'ready' },
      'reload',
      null,
    ]) {
      host.send(junk);
    }
    host.send({ type: 'token', token: await hostToken() });
    await host.waitFor('ready');
    expect(host.of('expired')).to.deep.equal([]);
  });
});

describe('the vendor iframe page, embedded from the host origin so a test can look inside', () => {
  type FrameWindow = Window & typeof globalThis & { vendorFrame: VendorFrameStatus };

  async function openInspectable(options: { height?: number } = {}) {
    const frame = await openVendorFrame({ origin: HOST_ORIGIN, ...options });
    const ports = watchPorts(frame.window);
    return { ...frame, window: frame.window as FrameWindow, ports, host: connect(frame.window, HOST_ORIGIN) };
  }

  /** Once the frame is idle: every message it posted has arrived (a port keeps order). */
  async function allArrived({ host, ports }: { host: HostEnd; ports: PortWatch }): Promise<void> {
    await until(() => host.received.length === ports.posted.length, 'every message the frame posted');
  }

  it('renders the card for the ids in its query string, with the token it was sent', async () => {
    const { window: inner, host } = await openInspectable();
    expect(inner.vendorFrame.state).to.equal('waiting');
    expect(inner.vendorFrame.loadCount).to.equal(0);
    const token = await hostToken();
    host.send({ type: 'token', token });
    await host.waitFor('ready');
    expect(inner.vendorFrame.state).to.equal('ready');
    expect(inner.vendorFrame.loadCount).to.equal(1);
    expect(inner.vendorFrame.loadedTokenId).to.equal(tokenId(token));
    expect(inner.vendorFrame.tokenExpiresAt).to.equal(expiryOf(token));
    expect(inner.document.body.textContent).to.contain('Community 42');
    expect(inner.document.body.textContent).to.contain('Signed in as u1');
    expect(inner.document.body.dataset.state).to.equal('ready');
    // Never the token: not in the status object, the page, or its URL.
    expect(JSON.stringify(inner.vendorFrame)).not.to.contain(token.split('.')[2]!);
    expect(inner.document.documentElement.outerHTML).not.to.contain(token.split('.')[2]!);
    expect(inner.location.href).not.to.contain(token.split('.')[2]!);
  });

  it('takes each newer token at once, dropping a superseded one, without announcing ready again', async () => {
    const scope = await testScope();
    const { window: inner, host, ports } = await openInspectable();
    host.send({ type: 'token', token: await hostToken(scope.endpoint) });
    await host.waitFor('ready');

    const [second, third] = [await hostToken(scope.endpoint), await hostToken(scope.endpoint)];
    host.send({ type: 'token', token: second });
    host.send({ type: 'token', token: third });
    await until(() => inner.vendorFrame.loadedTokenId === tokenId(third), 'the newest token to be in use');
    expect(inner.vendorFrame.state).to.equal('ready');
    expect(inner.vendorFrame.loadCount).to.equal(3);

    // Port messages arrive in order: a ready for the swap would come before the reload's.
    host.send({ type: 'reload' });
    await until(() => inner.vendorFrame.loadCount === 4 && inner.vendorFrame.state === 'ready', 'the reload');
    // Its ready is the last the frame says: once all it posted is in, no other ready is on its way.
    await allArrived({ host, ports });
    expect(host.of('ready')).to.have.length(2);
    expect(inner.vendorFrame.loadedTokenId).to.equal(tokenId(third));
    expect(inner.vendorFrame.loadCount).to.equal(4);
  });

  it('reports its content height, not the height of the frame', async () => {
    const { window: inner, host } = await openInspectable({ height: 600 });
    host.send({ type: 'token', token: await hostToken() });
    await host.waitFor('ready');
    await until(() => {
      const last = host.of('resize').at(-1)?.height;
      return last === Math.ceil(inner.document.documentElement.getBoundingClientRect().height);
    }, 'a resize with the rendered card height');
    const height = host.of('resize').at(-1)!.height;
    expect(height).to.be.greaterThan(50).and.lessThan(600);
  });

  it('reports token_expired when its token runs out, by the clock at the time', async () => {
    const frame = await openInspectable();
    // Faked in the frame's own realm, before the token arrives: the page must look its timers up at call time.
    const config = {
      global: frame.window,
      now: Date.now(),
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
    };
    // sinon takes `global` (another realm to fake) though its type definitions leave it out.
    const clock = sinon.useFakeTimers(config as unknown as Parameters<typeof sinon.useFakeTimers>[0]);
    try {
      const token = await hostToken((await testScope({ ttlSeconds: 60 })).endpoint);
      frame.host.send({ type: 'token', token });
      await frame.host.waitFor('ready');
      expect(frame.window.vendorFrame.tokenExpiresAt).to.equal(expiryOf(token));

      // The frame's timers run inside tick: an expiry due by now would have fired, and posted, already.
      clock.tick(expiryOf(token) - clock.now - 1_000);
      const expired = frame.ports.posted.filter(({ data }) => (data as { type?: unknown }).type === 'expired');
      expect(expired.length, 'expired messages posted').to.equal(0);
      expect(frame.window.vendorFrame.state).to.equal('ready');

      clock.tick(1_000);
      await frame.host.waitFor('expired');
      expect(frame.host.of('expired')).to.deep.equal([{ type: 'expired', code: 'token_expired' }]);
      expect(frame.window.vendorFrame.state).to.equal('expired');
    } finally {
      clock.uninstall();
    }
  });
});

describe('connectToHost checks its options up front', () => {
  const onToken = () => {};
  const cases: [string, unknown, RegExp][] = [
    ['no options', undefined, /options must be an object/],
    ['no allowedOrigins', { onToken }, /allowedOrigins must be a non-empty array/],
    ['an empty allowedOrigins', { allowedOrigins: [], onToken }, /allowedOrigins must be a non-empty array/],
    [
      'a string for allowedOrigins',
      { allowedOrigins: 'https://shop.example', onToken },
      /allowedOrigins must be a non-empty array/,
    ],
    ['"*"', { allowedOrigins: ['*'], onToken }, /allowedOrigins\[0\] must be an origin.*"\*"/],
    ['"null"', { allowedOrigins: ['https://shop.example', 'null'], onToken }, /allowedOrigins\[1\] must be an origin/],
    [
      'a trailing slash',
      { allowedOrigins: ['https://shop.example/'], onToken },
      /allowedOrigins\[0\] must be an origin/,
    ],
    ['a path', { allowedOrigins: ['https://shop.example/widgets'], onToken }, /allowedOrigins\[0\] must be an origin/],
    [
      'a default port',
      { allowedOrigins: ['https://shop.example:443'], onToken },
      /allowedOrigins\[0\] must be an origin/,
    ],
    [
      'an upper-case host',
      { allowedOrigins: ['https://Shop.example'], onToken },
      /allowedOrigins\[0\] must be an origin/,
    ],
    ['a bare host', { allowedOrigins: ['shop.example'], onToken }, /allowedOrigins\[0\] must be an origin/],
    ['a number', { allowedOrigins: [443], onToken }, /allowedOrigins\[0\] must be an origin.*number/],
    ['no onToken', { allowedOrigins: ['https://shop.example'] }, /onToken must be a function/],
    [
      'a string onReload',
      { allowedOrigins: ['https://shop.example'], onToken, onReload: 'reload' },
      /onReload must be a function/,
    ],
  ];
  for (const [name, options, message] of cases) {
    it(`rejects ${name} with a TypeError`, () => {
      expect(() => connectToHost(options as ConnectOptions))
        .to.throw(TypeError)
        .with.property('message')
        .that.matches(message);
    });
  }
});

describe('connectToHost outside a frame', () => {
  it('does nothing: no hello, no listener, and every call is a no-op', () => {
    expect(window.parent).to.equal(window, 'this test page is the top-level document');
    const postMessage = sinon.spy(window, 'postMessage');
    const addEventListener = sinon.spy(window, 'addEventListener');
    try {
      const connection = connectToHost({ allowedOrigins: [HOST_ORIGIN], onToken: () => {} });
      connection.ready();
      connection.expired('token_expired');
      connection.resize(120);
      connection.close();
      connection.close();
      expect(postMessage.called).to.equal(false);
      expect(addEventListener.calledWith('message')).to.equal(false);
      // A bad height is still a programming error, framed or not.
      expect(() => connection.resize(Number.NaN)).to.throw(TypeError);
    } finally {
      postMessage.restore();
      addEventListener.restore();
    }
  });
});

describe('connectToHost inside a frame', () => {
  type HarnessWindow = Window &
    typeof globalThis & {
      connectToHost: typeof connectToHost;
      /** Posts a connect from inside the frame itself: same origin as the host, but not the parent window. */
      connectFromSelf(port: MessagePort): void;
    };

  /** A same-origin frame running the helper itself, so the test page can drive both ends. */
  async function openHarness(): Promise<{ iframe: HTMLIFrameElement; inner: HarnessWindow }> {
    const iframe = document.createElement('iframe');
    iframe.srcdoc = `<!doctype html><meta charset="utf-8"><script type="module">
      import { connectToHost } from ${JSON.stringify(new URL('/src/frame/index.ts', location.href).href)};
      window.connectFromSelf = (port) => window.postMessage(
        { type: ${JSON.stringify(CONNECT)}, version: ${PROTOCOL_VERSION} }, self.origin, [port]);
      window.connectToHost = connectToHost;
    </script>`;
    document.body.append(iframe);
    await until(
      () => typeof (iframe.contentWindow as HarnessWindow | null)?.connectToHost === 'function',
      'the harness',
    );
    return { iframe, inner: iframe.contentWindow as HarnessWindow };
  }

  const LAST_HEIGHT = 999;

  /** Says one more height and waits for it: a port keeps order, so everything the frame said before has arrived. */
  async function saidLast(connection: HostConnection, host: HostEnd): Promise<void> {
    connection.resize(LAST_HEIGHT);
    await until(() => host.of('resize').some(({ height }) => height === LAST_HEIGHT), 'the last height');
  }

  /** Starts the helper in the harness, recording what it hands the widget and the hellos the host sees. */
  function start(inner: HarnessWindow, allowedOrigins: string[] = [HOST_ORIGIN]) {
    const hellos: MessageEvent[] = [];
    const tokens: string[] = [];
    let reloads = 0;
    const listener = (event: MessageEvent) => {
      if (event.source === inner) hellos.push(event);
    };
    window.addEventListener('message', listener);
    cleanups.push(() => window.removeEventListener('message', listener));
    const connection: HostConnection = inner.connectToHost({
      allowedOrigins,
      onToken: (token) => tokens.push(token),
      onReload: () => (reloads += 1),
    });
    return { connection, hellos, tokens, reloads: () => reloads };
  }

  it('says hello once, to the allowed origin the parent has', async () => {
    const { inner } = await openHarness();
    const { hellos } = start(inner, ['https://shop.example', HOST_ORIGIN]);
    // Every hello was posted to this page in start(): all are handled before a marker posted now.
    await handled(window);
    expect(hellos).to.have.length(1);
    expect(hellos[0]!.origin).to.equal(HOST_ORIGIN);
    expect(readHello(hellos[0]!.data)).to.deep.equal(hellos[0]!.data);
  });

  it('queues what the widget says before the connect, keeping only the last height', async () => {
    const { inner } = await openHarness();
    const { connection } = start(inner);
    connection.ready();
    connection.resize(10.2);
    connection.resize(20);
    connection.expired('token_expired');
    connection.resize(30.5);
    const host = connect(inner, HOST_ORIGIN);
    await until(() => host.received.length >= 3, 'the queued messages');
    await saidLast(connection, host);
    expect(host.received).to.deep.equal([
      { type: 'ready' },
      { type: 'expired', code: 'token_expired' },
      { type: 'resize', height: 31 },
      { type: 'resize', height: LAST_HEIGHT },
    ]);
  });

  it('rounds heights up, sends a height only when it changes, and drops an expiry code the protocol would not accept', async () => {
    const { inner } = await openHarness();
    const { connection } = start(inner);
    const host = connect(inner, HOST_ORIGIN);
    // The connect is asynchronous: wait until the helper holds the port before speaking over it.
    connection.resize(40);
    await host.waitFor('resize');
    connection.resize(40);
    connection.resize(39.2);
    connection.resize(40.01);
    connection.resize(0);
    connection.expired('bad code!');
    connection.expired(42 as unknown as string);
    connection.expired();
    connection.expired('token.invalid-2');
    await saidLast(connection, host);
    expect(host.received).to.deep.equal([
      { type: 'resize', height: 40 },
      { type: 'resize', height: 41 },
      { type: 'resize', height: 0 },
      { type: 'expired' },
      { type: 'expired' },
      { type: 'expired' },
      { type: 'expired', code: 'token.invalid-2' },
      { type: 'resize', height: LAST_HEIGHT },
    ]);
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, '12' as unknown as number]) {
      // The helper runs in the frame's realm, so its TypeError is the frame's: compared by name, not by constructor.
      expect(() => connection.resize(bad), String(bad))
        .to.throw(/finite number/)
        .with.property('name', 'TypeError');
    }
  });

  it('hands tokens and reloads to the widget, and nothing else', async () => {
    const { inner } = await openHarness();
    const { connection, tokens, reloads } = start(inner);
    const host = connect(inner, HOST_ORIGIN);
    for (const junk of [
      { type: 'token', token: 7 },
      { type: 'token', token: 'x', extra: 1 },
      { type: 'reload', now: true },
      'token',
      null,
    ]) {
      host.send(junk);
    }
    host.send({ type: 'token', token: 'first' });
    host.send({ type: 'reload' });
    host.send({ type: 'token', token: 'second' });
    await until(() => tokens.length === 2, 'two tokens');
    expect(tokens).to.deep.equal(['first', 'second']);
    expect(reloads()).to.equal(1);
    connection.close();
  });

  it('accepts one connect only, from the parent window', async () => {
    const { inner } = await openHarness();
    const ports = watchPorts(inner);
    const { connection, tokens } = start(inner);

    // Same origin as the host, but posted by the frame itself: not the parent, so not a host.
    const fromSelf = new MessageChannel();
    inner.connectFromSelf(fromSelf.port2);
    const impostor = new HostEnd(fromSelf.port1);
    // A connect of another shape, or with two ports, is not a connect.
    const extra = new MessageChannel();
    const twoPorts = new MessageChannel();
    inner.postMessage({ ...CONNECT_MESSAGE, extra: true }, HOST_ORIGIN, [extra.port2]);
    inner.postMessage(CONNECT_MESSAGE, HOST_ORIGIN, [twoPorts.port2, new MessageChannel().port2]);
    inner.postMessage(CONNECT_MESSAGE, HOST_ORIGIN);

    const host = connect(inner, HOST_ORIGIN);
    const late = connect(inner, HOST_ORIGIN);
    connection.ready();
    await host.waitFor('ready');
    late.send({ type: 'token', token: 'from-the-late-connect' });
    impostor.send({ type: 'token', token: 'from-the-impostor' });
    host.send({ type: 'token', token: 'from-the-host' });
    await until(() => tokens.length > 0, 'a token');
    // Every connect has been handled: the frame listens on one port (the host's: its ready came) and speaks on no
    // other, so nothing sent on the others is ever heard, and nothing is ever said there.
    await handled(inner);
    expect(ports.listened.size).to.equal(1);
    expect(ports.posted.every(({ port }) => ports.listened.has(port))).to.equal(true);
    expect(tokens).to.deep.equal(['from-the-host']);
    expect(late.received).to.deep.equal([]);
    expect(impostor.received).to.deep.equal([]);
  });

  it('connects to no parent whose origin is not allowed', async () => {
    const { inner } = await openHarness();
    const ports = watchPorts(inner);
    const { connection, hellos, tokens } = start(inner, ['https://shop.example']);
    const host = connect(inner, HOST_ORIGIN);
    connection.ready();
    host.send({ type: 'token', token: 'should-not-arrive' });
    // The connect has been handled, and any hello posted to this page before it has arrived.
    await handled(inner);
    await handled(window);
    expect(ports.listened.size).to.equal(0);
    expect(ports.posted.map(({ data }) => data)).to.deep.equal([]);
    expect(hellos).to.deep.equal([]);
    expect(host.received).to.deep.equal([]);
    expect(tokens).to.deep.equal([]);
  });

  it('stops listening and closes the port on close()', async () => {
    const { inner } = await openHarness();
    const ports = watchPorts(inner);
    const { connection, tokens } = start(inner);
    const host = connect(inner, HOST_ORIGIN);
    connection.ready();
    await host.waitFor('ready');
    connection.close();
    connection.ready();
    connection.resize(99);
    host.send({ type: 'token', token: 'after-close' });
    // A connect after close is not heard either.
    const later = connect(inner, HOST_ORIGIN);
    connection.expired('token_expired');
    await handled(inner);
    // Nothing said after close; the one port it listened on is closed and deaf, and no other was taken.
    expect(ports.posted.map(({ data }) => data)).to.deep.equal([{ type: 'ready' }]);
    expect(ports.listened.size).to.equal(1);
    for (const port of ports.listened) {
      expect(ports.closed.has(port), 'closed').to.equal(true);
      expect(port.onmessage, 'no handler').to.equal(null);
    }
    expect(host.received).to.deep.equal([{ type: 'ready' }]);
    expect(later.received).to.deep.equal([]);
    expect(tokens).to.deep.equal([]);
  });

  it('closes before a connect: the connect is then ignored', async () => {
    const { inner } = await openHarness();
    const ports = watchPorts(inner);
    const { connection } = start(inner);
    connection.ready();
    connection.close();
    const host = connect(inner, HOST_ORIGIN);
    await handled(inner);
    expect(ports.listened.size).to.equal(0);
    expect(ports.posted.map(({ data }) => data)).to.deep.equal([]);
    expect(host.received).to.deep.equal([]);
  });
});
