import { expect } from '@open-wc/testing';
import sinon from 'sinon';
import { SecureWidgetError } from '../../src/element/errors.js';
import { TokenBroker, type TokenSubscriber } from '../../src/element/token/broker.js';
import { sharedBroker } from '../../src/element/token/registry.js';
import type { TokenGrant } from '../../src/element/token/grant.js';

const NOW = Date.UTC(2026, 10, 22, 12, 0, 0);
const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
const MAX_TIMER_DELAY = 2 ** 31 - 1;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A grant with `remaining` ms to live (by the fake clock) out of `lifetime`. */
function grant(token: string, lifetime: number | null = 15 * MINUTE, remaining = lifetime ?? 15 * MINUTE): TokenGrant {
  return { token, expiresAt: Date.now() + remaining, lifetime };
}

const opaque = (token: string): TokenGrant => ({ token, expiresAt: null, lifetime: null });
const transient = (retryAfter?: number) =>
  new SecureWidgetError('endpoint-http', 'HTTP 503', { fatal: false, status: 503, ...(retryAfter && { retryAfter }) });
const fatal = () => new SecureWidgetError('endpoint-http', 'HTTP 401', { fatal: true, status: 401 });

/**
 * A loader whose every call waits for the test to settle it, and which rejects with an AbortError when its signal
 * aborts, as endpointLoader does.
 */
function fakeLoader() {
  const calls: Deferred<TokenGrant>[] = [];
  const load = sinon.stub<[AbortSignal], Promise<TokenGrant>>().callsFake((signal) => {
    const call = deferred<TokenGrant>();
    signal.addEventListener('abort', () => call.reject(new DOMException('Aborted', 'AbortError')), { once: true });
    calls.push(call);
    return call.promise;
  });
  return {
    load,
    /** Settles the latest call and lets the broker react. */
    async resolve(value: TokenGrant) {
      calls.at(-1)!.resolve(value);
      await clock.tickAsync(0);
    },
    async reject(error: unknown) {
      calls.at(-1)!.reject(error);
      await clock.tickAsync(0);
    },
    signal: (call = -1) => load.getCalls().at(call)!.args[0],
  };
}

function subscriber(margin = MINUTE) {
  return {
    marginMs: margin,
    onGrant: sinon.spy<TokenSubscriber['onGrant']>(() => {}),
    onFailure: sinon.spy<TokenSubscriber['onFailure']>(() => {}),
  } satisfies TokenSubscriber;
}

let clock: sinon.SinonFakeTimers;

/** The loader has made `loads` calls, and makes its next one `delay` ms from now, not a millisecond sooner. */
async function expectNextLoadIn(loader: ReturnType<typeof fakeLoader>, delay: number, loads: number, message?: string) {
  await clock.tickAsync(delay - 1);
  expect(loader.load.callCount, message).to.equal(loads);
  await clock.tickAsync(1);
  expect(loader.load.callCount).to.equal(loads + 1);
}

beforeEach(() => {
  clock = sinon.useFakeTimers({
    now: NOW,
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'],
  });
});

afterEach(() => {
  clock.restore();
  sinon.restore();
});

/** A broker that `subscribers` have subscribed to, the first of them asking for a token: its load in flight. */
function requested(...subscribers: ReturnType<typeof subscriber>[]) {
  const loader = fakeLoader();
  const broker = new TokenBroker(loader.load);
  for (const each of subscribers) broker.subscribe(each);
  broker.request(subscribers[0]!);
  return { broker, loader };
}

/** A widget that subscribes to `broker`, is given the token `t1` and leaves: its unsubscribe, already called. */
async function cameAndLeft(broker: TokenBroker, loader: ReturnType<typeof fakeLoader>): Promise<() => void> {
  const a = subscriber();
  const off = broker.subscribe(a);
  broker.request(a);
  await loader.resolve(grant('t1'));
  off();
  return off;
}

/** A broker with subscribers already holding `first`, the way widgets on a page look after start-up. */
async function brokerWithToken(first: TokenGrant, ...subscribers: ReturnType<typeof subscriber>[]) {
  const { broker, loader } = requested(...subscribers);
  await loader.resolve(first);
  for (const each of subscribers) each.onGrant.resetHistory();
  return { broker, loader };
}

describe('broker: shares one request among widgets', () => {
  it('makes one load for many concurrent request() calls and gives every widget the same token', async () => {
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load);
    const [a, b, c] = [subscriber(), subscriber(), subscriber()];
    for (const each of [a, b, c]) broker.subscribe(each);
    for (const each of [a, b, c]) broker.request(each);
    broker.refresh(b);
    expect(loader.load.callCount).to.equal(1);
    const t1 = grant('t1');
    await loader.resolve(t1);
    expect(loader.load.callCount).to.equal(1);
    for (const each of [a, b, c]) expect(each.onGrant.args, 'each widget is told once').to.have.length(1);
    for (const each of [a, b, c]) expect(each.onGrant.lastCall.args[0]).to.equal(t1);
  });

  it('sets fetchedForThis for the initiator only', async () => {
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load);
    const [a, b, c] = [subscriber(), subscriber(), subscriber()];
    for (const each of [a, b, c]) broker.subscribe(each);
    broker.request(b);
    broker.request(a);
    broker.request(c);
    const t1 = grant('t1');
    await loader.resolve(t1);
    expect(a.onGrant.args).to.deep.equal([[t1, false]]);
    expect(b.onGrant.args).to.deep.equal([[t1, true]]);
    expect(c.onGrant.args).to.deep.equal([[t1, false]]);
  });
});

describe('broker: a fresh token in hand is delivered at once', () => {
  it('hands the token to a newcomer synchronously, without a load', async () => {
    const a = subscriber();
    const t1 = grant('t1');
    const { broker, loader } = await brokerWithToken(t1, a);
    const b = subscriber();
    broker.subscribe(b);
    broker.request(b);
    expect(b.onGrant.args, 'synchronously').to.deep.equal([[t1, false]]);
    expect(loader.load.callCount).to.equal(1);
    expect(a.onGrant.callCount, 'the others hear nothing').to.equal(0);
  });

  it('keeps delivering an opaque token (no expiry) without loads', async () => {
    const a = subscriber();
    const { broker, loader } = await brokerWithToken(opaque('o1'), a);
    await clock.tickAsync(7 * DAY);
    broker.request(a);
    expect(a.onGrant.args).to.deep.equal([[opaque('o1'), false]]);
    expect(loader.load.callCount).to.equal(1);
    expect(clock.countTimers(), 'nothing to schedule').to.equal(0);
  });

  it('still delivers a token that is due for refresh, and fetches its successor meanwhile', async () => {
    const a = subscriber();
    const { broker, loader } = await brokerWithToken(grant('t1'), a);
    clock.setSystemTime(Date.now() + 14 * MINUTE + 1); // the timer is late (a background tab)
    broker.request(a);
    expect(a.onGrant.callCount).to.equal(1);
    expect(a.onGrant.lastCall.args[0].token).to.equal('t1');
    expect(loader.load.callCount).to.equal(2);
    await loader.resolve(grant('t2'));
    expect(a.onGrant.lastCall.args[0].token).to.equal('t2');
  });

  it('exposes the token in hand only while it is fresh', async () => {
    const { broker } = await brokerWithToken(grant('t1'), subscriber());
    expect(broker.grant?.token).to.equal('t1');
    clock.setSystemTime(NOW + 15 * MINUTE);
    expect(broker.grant).to.equal(null);
  });
});

describe('broker: refreshes ahead of expiry', () => {
  it('fires exactly at expiresAt − margin', async () => {
    const a = subscriber(MINUTE);
    const { loader } = await brokerWithToken(grant('t1'), a);
    await expectNextLoadIn(loader, 14 * MINUTE, 1);
    expect(a.onGrant.callCount, 'the old token stays in use until the new one arrives').to.equal(0);
  });

  it('uses the largest margin among the subscribers', async () => {
    const margins = [subscriber(30 * SECOND), subscriber(2 * MINUTE), subscriber()];
    const { loader } = await brokerWithToken(grant('t1'), ...margins);
    await expectNextLoadIn(loader, 13 * MINUTE, 1);
  });

  it('caps the margin at half the token lifetime', async () => {
    const { loader } = await brokerWithToken(grant('t1', 2 * MINUTE), subscriber(90 * SECOND));
    await expectNextLoadIn(loader, MINUTE, 1);
  });

  it('tells the first subscriber the timer fetch was for it, and schedules the next one', async () => {
    const [a, b] = [subscriber(), subscriber()];
    const { loader } = await brokerWithToken(grant('t1'), a, b);
    await clock.tickAsync(14 * MINUTE);
    const t2 = grant('t2');
    await loader.resolve(t2);
    expect(a.onGrant.args).to.deep.equal([[t2, true]]);
    expect(b.onGrant.args).to.deep.equal([[t2, false]]);
    await expectNextLoadIn(loader, 14 * MINUTE, 2);
  });

  // BUG: the timer is computed when a token arrives, from the margins subscribed at that moment; subscribe() does not
  // reschedule. A widget with refresh-margin 120 s that connects after the token arrived (request() hands it the
  // token at once, since it is not yet due by its margin) is ignored until the next token: the refresh fires at
  // expiresAt − 60 s instead of expiresAt − 120 s. Expected a load at 13 min; actual none until 14 min.
  it('honours the larger margin of a widget that subscribes after the token arrived', async () => {
    const { broker, loader } = await brokerWithToken(grant('t1'), subscriber(MINUTE));
    await clock.tickAsync(MINUTE);
    const late = subscriber(2 * MINUTE);
    broker.subscribe(late);
    broker.request(late);
    await clock.tickAsync(12 * MINUTE);
    expect(loader.load.callCount).to.equal(2);
  });
});

describe('broker: replace() after the vendor rejects a token', () => {
  it('hands over the token fetched ahead of expiry, without a load', async () => {
    const a = subscriber();
    const { broker, loader } = await brokerWithToken(grant('t1'), a);
    await clock.tickAsync(14 * MINUTE);
    const t2 = grant('t2');
    await loader.resolve(t2);
    a.onGrant.resetHistory();
    // The vendor's widget fires rai-error at t1's expiry: t2 is already in hand.
    await clock.tickAsync(MINUTE);
    broker.replace(a, 't1');
    expect(a.onGrant.args).to.deep.equal([[t2, false]]);
    expect(loader.load.callCount).to.equal(2);
  });

  it('loads when the token in hand is the rejected one, no sooner than a second after the last load', async () => {
    const a = subscriber();
    const { broker, loader } = await brokerWithToken(grant('t1'), a);
    broker.replace(a, 't1');
    expect(loader.load.callCount, 'right after the load of t1').to.equal(1);
    await clock.tickAsync(SECOND);
    expect(loader.load.callCount).to.equal(2);
    expect(a.onGrant.callCount).to.equal(0);
    const t2 = grant('t2');
    await loader.resolve(t2);
    expect(a.onGrant.args, 'fetched for the widget that asked').to.deep.equal([[t2, true]]);
  });

  it('loads when there is no token in hand, and joins a load in flight', async () => {
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load);
    const [a, b] = [subscriber(), subscriber()];
    broker.subscribe(a);
    broker.subscribe(b);
    broker.replace(a, null);
    broker.replace(b, 't0');
    expect(loader.load.callCount).to.equal(1);
    const t1 = grant('t1');
    await loader.resolve(t1);
    expect(a.onGrant.args).to.deep.equal([[t1, true]]);
    expect(b.onGrant.args).to.deep.equal([[t1, false]]);
  });
});

describe('broker: offer() of a server-rendered token', () => {
  it('adopts it when nothing is in hand, tells the other widgets only, and makes no load', async () => {
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load);
    const [a, b, c] = [subscriber(), subscriber(), subscriber()];
    for (const each of [a, b, c]) broker.subscribe(each);
    const markup = grant('m1');
    broker.offer(markup, b);
    expect(a.onGrant.args).to.deep.equal([[markup, false]]);
    expect(b.onGrant.callCount, 'the offering widget already has it').to.equal(0);
    expect(c.onGrant.args).to.deep.equal([[markup, false]]);
    c.onGrant.resetHistory();
    broker.request(c);
    expect(c.onGrant.args).to.deep.equal([[markup, false]]);
    expect(loader.load.callCount).to.equal(0);
  });

  it('schedules the refresh of the adopted token', async () => {
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load);
    const a = subscriber();
    broker.subscribe(a);
    broker.offer(grant('m1'), a);
    await expectNextLoadIn(loader, 14 * MINUTE, 0);
  });

  it('adopts a token that expires later than the one in hand', async () => {
    const [a, b] = [subscriber(), subscriber()];
    const { broker } = await brokerWithToken(grant('t1', 15 * MINUTE, 5 * MINUTE), a, b);
    const later = grant('m1');
    broker.offer(later, b);
    expect(broker.grant).to.equal(later);
    expect(a.onGrant.args).to.deep.equal([[later, false]]);
    expect(b.onGrant.callCount).to.equal(0);
  });

  it('ignores a token that expires no later than the one in hand, or has no expiry', async () => {
    const [a, b] = [subscriber(), subscriber()];
    const t1 = grant('t1');
    const { broker } = await brokerWithToken(t1, a, b);
    broker.offer(grant('m1', 15 * MINUTE, 5 * MINUTE), b);
    broker.offer(grant('m2'), b);
    broker.offer(opaque('m3'), b);
    expect(broker.grant).to.equal(t1);
    expect(a.onGrant.callCount).to.equal(0);
  });
});

describe('broker: transient failures retry with backoff', () => {
  it('tells every widget once, with retryAt, and retries 1 s, 2 s, 4 s … capped at 60 s', async () => {
    sinon.stub(Math, 'random').returns(1); // full jitter at its ceiling
    const [a, b] = [subscriber(), subscriber()];
    const { loader } = requested(a, b);
    const delays = [1, 2, 4, 8, 16, 32, 60, 60].map((s) => s * SECOND);
    for (const [attempt, delay] of delays.entries()) {
      const error = transient();
      await loader.reject(error);
      for (const each of [a, b]) {
        expect(each.onFailure.callCount, `attempt ${attempt + 1}`).to.equal(attempt + 1);
        expect(each.onFailure.lastCall.args).to.deep.equal([error, Date.now() + delay]);
      }
      await clock.tickAsync(delay - 1);
      expect(loader.load.callCount, `not before ${delay} ms`).to.equal(attempt + 1);
      await clock.tickAsync(1);
      expect(loader.load.callCount, `at ${delay} ms`).to.equal(attempt + 2);
    }
    expect(a.onFailure.lastCall.args[0]).to.be.instanceOf(SecureWidgetError);
    await loader.resolve(grant('t1'));
    expect(a.onGrant.lastCall.args[0].token).to.equal('t1');
  });

  it('spreads retries with jitter above the 1 s floor (1 s, then 1 s + random × the rest of the ceiling)', async () => {
    sinon.stub(Math, 'random').returns(0.25);
    const a = subscriber();
    const { loader } = requested(a);
    await loader.reject(transient());
    expect(a.onFailure.lastCall.args[1], 'the first retry: the floor').to.equal(NOW + SECOND);
    await clock.tickAsync(SECOND);
    await loader.reject(transient());
    expect(a.onFailure.lastCall.args[1]).to.equal(Date.now() + 1_250);
    await clock.tickAsync(1_249);
    expect(loader.load.callCount).to.equal(2);
    await clock.tickAsync(1);
    expect(loader.load.callCount).to.equal(3);
  });

  it('never retries sooner than 1 s after the last attempt, however often the page wakes it', async () => {
    sinon.stub(Math, 'random').returns(0);
    const a = subscriber();
    const { broker, loader } = requested(a);
    await loader.reject(fatal());
    for (let index = 0; index < 50; index += 1) {
      broker.wake();
      broker.request(subscriber());
      await clock.tickAsync(10);
    }
    expect(loader.load.callCount, 'within the first second').to.equal(1);
    await clock.tickAsync(SECOND);
    broker.wake();
    expect(loader.load.callCount).to.equal(2);
  });

  it('a token that lives a few milliseconds is renewed at most once a second', async () => {
    const a = subscriber();
    const { loader } = requested(a);
    await loader.resolve(grant('t1', 1_200, 1_200));
    await clock.tickAsync(999);
    expect(loader.load.callCount).to.equal(1);
    await clock.tickAsync(1);
    expect(loader.load.callCount).to.equal(2);
  });

  it('honours a Retry-After longer than the backoff, not a shorter one', async () => {
    sinon.stub(Math, 'random').returns(1);
    const a = subscriber();
    const { loader } = requested(a);
    await loader.reject(transient(30 * SECOND));
    expect(a.onFailure.lastCall.args[1]).to.equal(NOW + 30 * SECOND);
    await expectNextLoadIn(loader, 30 * SECOND, 1);
    await loader.reject(transient(500)); // second failure: the 2 s ceiling wins
    await expectNextLoadIn(loader, 2 * SECOND, 2);
  });

  it('starts the backoff over after a success', async () => {
    sinon.stub(Math, 'random').returns(1);
    const a = subscriber();
    const { loader } = requested(a);
    await loader.reject(transient());
    await clock.tickAsync(1 * SECOND);
    await loader.reject(transient());
    await clock.tickAsync(2 * SECOND);
    await loader.resolve(grant('t1'));
    await clock.tickAsync(14 * MINUTE); // the refresh timer
    expect(loader.load.callCount).to.equal(4);
    await loader.reject(transient());
    expect(a.onFailure.lastCall.args[1]).to.equal(Date.now() + 1 * SECOND);
  });
});

describe('broker: fatal failures wait for refresh()', () => {
  it('reports retryAt null and schedules nothing', async () => {
    const [a, b] = [subscriber(), subscriber()];
    const { broker, loader } = requested(a, b);
    const error = fatal();
    await loader.reject(error);
    for (const each of [a, b]) expect(each.onFailure.args).to.deep.equal([[error, null]]);
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(DAY);
    expect(loader.load.callCount).to.equal(1);
    broker.refresh(a);
    expect(loader.load.callCount).to.equal(2);
  });

  it('treats a rejection that is no SecureWidgetError (fetchToken throwing) as a fatal token-missing', async () => {
    const a = subscriber();
    const { loader } = requested(a);
    const cause = new TypeError('sdk offline');
    await loader.reject(cause);
    const [error, retryAt] = a.onFailure.lastCall.args;
    expect(error).to.include({ code: 'token-missing', fatal: true });
    expect(error.cause).to.equal(cause);
    expect(retryAt).to.equal(null);
  });
});

describe('broker: one backoff schedule for every widget', () => {
  it('a widget that connects during the backoff hears the failure and waits for the scheduled retry', async () => {
    sinon.stub(Math, 'random').returns(1);
    const a = subscriber();
    const { broker, loader } = requested(a);
    const error = transient();
    await loader.reject(error);
    const late = subscriber();
    broker.subscribe(late);
    broker.request(late);
    expect(late.onFailure.args, 'synchronously').to.deep.equal([[error, NOW + SECOND]]);
    expect(loader.load.callCount).to.equal(1);
    await clock.tickAsync(SECOND);
    expect(loader.load.callCount).to.equal(2);
    await loader.resolve(grant('t1'));
    expect(late.onGrant.lastCall.args[0].token).to.equal('t1');
  });

  it('replace() during the backoff, or after a fatal failure, starts no request', async () => {
    for (const error of [transient(), fatal()]) {
      const a = subscriber();
      const { broker, loader } = requested(a);
      await loader.reject(error);
      a.onFailure.resetHistory();
      broker.replace(a, null);
      expect(loader.load.callCount, error.code).to.equal(1);
      expect(a.onFailure.callCount, 'the failure was heard once, when it happened').to.equal(0);
      broker.stop();
    }
  });
});

describe('broker: wake() when the page comes back', () => {
  it('fetches at once when the token is due or missing, and does nothing when it is not', async () => {
    const a = subscriber();
    const { broker, loader } = await brokerWithToken(grant('t1'), a);
    broker.wake();
    expect(loader.load.callCount).to.equal(1);
    clock.setSystemTime(Date.now() + 14 * MINUTE + 1); // slept through the refresh timer
    broker.wake();
    expect(loader.load.callCount).to.equal(2);
    broker.wake();
    expect(loader.load.callCount, 'joins the request in flight').to.equal(2);
  });

  it('retries a fatal failure, and cuts a backoff short (a second after the last attempt)', async () => {
    sinon.stub(Math, 'random').returns(1);
    for (const error of [fatal(), transient(60 * SECOND)]) {
      const a = subscriber();
      const { broker, loader } = requested(a);
      await loader.reject(error);
      await clock.tickAsync(SECOND);
      broker.wake();
      expect(loader.load.callCount, error.code).to.equal(2);
      await loader.resolve(grant('t1'));
      expect(a.onGrant.lastCall.args[0].token).to.equal('t1');
      broker.stop();
    }
  });
});

describe('broker: the last widget to leave stops everything', () => {
  it('keeps the timer while one widget remains', async () => {
    const [a, b] = [subscriber(), subscriber()];
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load);
    const offA = broker.subscribe(a);
    broker.subscribe(b);
    broker.request(a);
    await loader.resolve(grant('t1'));
    offA();
    await clock.tickAsync(14 * MINUTE);
    expect(loader.load.callCount).to.equal(2);
  });

  it('stops the refresh timer on the last unsubscribe', async () => {
    const onIdle = sinon.spy();
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load, onIdle);
    const off = await cameAndLeft(broker, loader);
    expect(onIdle.callCount).to.equal(1);
    expect(clock.countTimers()).to.equal(0);
    await clock.tickAsync(DAY);
    expect(loader.load.callCount).to.equal(1);
    off();
    expect(onIdle.callCount, 'a second unsubscribe is a no-op').to.equal(1);
  });

  it('aborts the load in flight, and an aborted load is no failure to report', async () => {
    const onIdle = sinon.spy();
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load, onIdle);
    const [a, b] = [subscriber(), subscriber()];
    const offA = broker.subscribe(a);
    const offB = broker.subscribe(b);
    broker.request(a);
    offA();
    expect(loader.signal().aborted, 'one widget left').to.equal(false);
    offB();
    expect(loader.signal().aborted).to.equal(true);
    await clock.tickAsync(0);
    expect(a.onFailure.callCount + b.onFailure.callCount).to.equal(0);
    expect(clock.countTimers(), 'no retry').to.equal(0);
    expect(onIdle.callCount).to.equal(1);
  });

  it('sharedBroker gives one broker per key and forgets it when idle', () => {
    const key = Symbol('endpoint');
    const createLoader = sinon.spy(() => fakeLoader().load);
    const first = sharedBroker(key, createLoader);
    expect(sharedBroker(key, createLoader)).to.equal(first);
    expect(sharedBroker(Symbol('other'), createLoader)).not.to.equal(first);
    expect(createLoader.callCount).to.equal(2);
    const offA = first.subscribe(subscriber());
    const offB = sharedBroker(key, createLoader).subscribe(subscriber());
    offA();
    expect(sharedBroker(key, createLoader), 'one widget left').to.equal(first);
    offB();
    const second = sharedBroker(key, createLoader);
    expect(second).not.to.equal(first);
    expect(createLoader.callCount).to.equal(3);
  });

  it('sharedBroker keeps a valid token for a widget that comes back, with no timer meanwhile', async () => {
    const key = Symbol('spa');
    const loader = fakeLoader();
    const broker = sharedBroker(key, () => loader.load);
    await cameAndLeft(broker, loader);
    expect(clock.countTimers(), 'nothing runs while no widget is there').to.equal(0);
    await clock.tickAsync(5 * MINUTE);
    const again = sharedBroker(key, () => loader.load);
    expect(again).to.equal(broker);
    const b = subscriber();
    again.subscribe(b);
    void again.request(b);
    expect(b.onGrant.lastCall.args[0].token).to.equal('t1');
    expect(loader.load.callCount).to.equal(1);
    expect(clock.countTimers(), 'the refresh is scheduled again').to.equal(1);
    again.stop();
  });

  it('sharedBroker forgets a broker whose token ran out while no widget was there', async () => {
    const key = Symbol('stale');
    const loader = fakeLoader();
    const broker = sharedBroker(key, () => loader.load);
    await cameAndLeft(broker, loader);
    clock.setSystemTime(Date.now() + 16 * MINUTE);
    expect(sharedBroker(key, () => fakeLoader().load)).not.to.equal(broker);
  });
});

describe('broker: timers that could misfire', () => {
  it('clamps a delay beyond 2^31 − 1 ms: a 30-day token does not refetch at once', async () => {
    const thirtyDays = grant('t1', 30 * DAY);
    const { loader } = await brokerWithToken(thirtyDays, subscriber());
    await clock.tickAsync(SECOND);
    expect(loader.load.callCount).to.equal(1);
    await clock.tickAsync(MAX_TIMER_DELAY - SECOND - 1);
    expect(loader.load.callCount, 'nothing before 2^31 − 1 ms').to.equal(1);
  });

  it('waits half the remaining life of a token that arrives already inside its margin', async () => {
    const a = subscriber(MINUTE);
    // A 15-minute token the backend had cached: 40 s remain, less than the 60 s margin.
    const { loader } = await brokerWithToken(grant('t1', 15 * MINUTE, 40 * SECOND), a);
    await expectNextLoadIn(loader, 20 * SECOND, 1, 'no refetch loop');
    await loader.resolve(grant('t2', 15 * MINUTE, 40 * SECOND));
    await expectNextLoadIn(loader, 20 * SECOND, 2);
  });

  // BUG (latent: the element never reuses an idle broker, since sharedBroker forgets it and element scope makes a new
  // one): stop() says "the broker can be used again afterwards", but a broker stopped with a token in hand hands that
  // token out at once from request() and never schedules its refresh again, because request() delivers without
  // calling #schedule. Expected a load at expiresAt − margin (14 min); actual none, so the token simply expires.
  it('schedules the refresh again when used after stop()', async () => {
    const loader = fakeLoader();
    const broker = new TokenBroker(loader.load);
    await cameAndLeft(broker, loader);
    const b = subscriber();
    broker.subscribe(b);
    broker.request(b);
    await clock.tickAsync(14 * MINUTE);
    expect(loader.load.callCount).to.equal(2);
  });
});

describe('broker: Retry-After has a ceiling', () => {
  it('a Retry-After of a day is honoured for 10 minutes, not a day', async () => {
    sinon.stub(Math, 'random').returns(1);
    const a = subscriber();
    const { loader } = requested(a);
    await loader.reject(transient(DAY));
    expect(a.onFailure.lastCall.args[1]).to.equal(NOW + 10 * MINUTE);
    await clock.tickAsync(10 * MINUTE);
    expect(loader.load.callCount).to.equal(2);
  });
});
