import { expect } from '@open-wc/testing';
import { SecureWidgetError } from '../src/element/errors.js';
import {
  BURST_WINDOW,
  FRESH_REJECTION_WINDOW,
  initialState,
  nextDeadline,
  statusOf,
  step,
  type RecoveryEffects,
  type RecoveryInput,
  type RecoveryState,
} from '../src/element/recovery.js';
import type { TokenGrant } from '../src/element/token/grant.js';

// The machine is deterministic in (state, input, now): `step` moves the state object on in place and asks for its
// effects through `fx`, with no timer and no DOM; the clock is a number the test moves.
const MINUTE = 60_000;
let now = 0;

function grant(token: string, life = 15 * MINUTE): TokenGrant {
  return { token, expiresAt: now + life, lifetime: life };
}

const transient = new SecureWidgetError('endpoint-http', 'HTTP 503', { fatal: false, status: 503 });
const fatal = new SecureWidgetError('endpoint-http', 'HTTP 401', { fatal: true, status: 401 });

/** An effect the machine asked for: its name in kebab case (`hand-over`), and its arguments. */
type Call = [name: string, ...args: unknown[]];

/** A widget driven by inputs, keeping every effect it asked for. */
function machine(renewable = true) {
  const state: RecoveryState = initialState(renewable);
  let calls: Call[] = [];
  const effects = new Proxy({} as RecoveryEffects, {
    get:
      (_, name: string) =>
      (...args: unknown[]) =>
        calls.push([name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`), ...args]),
  });
  const send = (...inputs: RecoveryInput[]) => {
    calls = [];
    for (const input of inputs) step(state, input, now, effects);
    return calls;
  };
  return {
    send,
    get state() {
      return state;
    },
    get status() {
      return statusOf(state, now);
    },
    types: () => calls.map(([name]) => name),
    /** Gets to `running` on token t1, the way a healthy start does. */
    run(token = 't1') {
      send(
        { type: 'token', grant: grant(token), source: 'endpoint' },
        { type: 'vendor-loaded', token },
        { type: 'vendor-ready' },
      );
      return this;
    },
    /** The vendor rejects its token and the source hands over `token`; the reload completes. */
    recoverWith(token: string) {
      send(
        { type: 'vendor-expired' },
        { type: 'token', grant: grant(token), source: 'shared' },
        { type: 'reload-begun' },
      );
      send({ type: 'reloaded', token });
      return this;
    },
  };
}

beforeEach(() => {
  now = Date.UTC(2026, 11, 2);
});

describe('recovery: a healthy start', () => {
  it('starting → showing → running, announcing the token then ready, status loading → ready', () => {
    const widget = machine();
    expect(widget.status).to.equal('loading');
    widget.send({ type: 'token', grant: grant('t1'), source: 'endpoint' });
    expect(widget.types()).to.deep.equal(['announce-token', 'hand-over']);
    expect(widget.state.phase.name).to.equal('showing');
    expect(widget.status).to.equal('loading');
    widget.send({ type: 'vendor-loaded', token: 't1' }, { type: 'vendor-ready' });
    expect(widget.types()).to.deep.equal(['announce-ready']);
    expect(widget.state.phase.name).to.equal('running');
    expect(widget.status).to.equal('ready');
  });

  it('a token fetched ahead of expiry goes onto the vendor without a reload', () => {
    const widget = machine().run();
    widget.send({ type: 'token', grant: grant('t2'), source: 'endpoint' });
    expect(widget.types()).to.deep.equal(['announce-token', 'hand-over']);
    expect(widget.state.phase.name).to.equal('running');
  });
});

describe('recovery: refresh() and failures (status is never stuck)', () => {
  for (const [name, error] of [
    ['503', transient],
    ['401', fatal],
  ] as const) {
    it(`refresh() with a valid token in hand and a ${name}: back to ready, the call rejects`, () => {
      const widget = machine().run();
      widget.send({ type: 'refresh' });
      expect(widget.types()).to.deep.equal(['ask-refresh']);
      expect(widget.status).to.equal('refreshing');
      widget.send({ type: 'token-failed', error, retryAt: error.fatal ? null : now + 1_000 });
      expect(widget.types()).to.deep.equal(['announce-error', 'settle']);
      expect((widget.state.phase as { name: string }).name).to.equal('running');
      expect(widget.status).to.equal('ready');
      // The background retry brings a token: it goes onto the vendor, and nothing is stuck.
      widget.send({ type: 'token', grant: grant('t2'), source: 'shared' });
      expect(widget.types()).to.deep.equal(['announce-token', 'hand-over']);
      expect(widget.status).to.equal('ready');
    });
  }

  it('a failed renewal shows error only once the token in hand runs out, at a deadline it names', () => {
    const widget = machine().run();
    widget.send({ type: 'token-failed', error: fatal, retryAt: null });
    expect(widget.status).to.equal('ready');
    const expiresAt = widget.state.grant!.expiresAt!;
    expect(nextDeadline(widget.state)).to.equal(expiresAt);
    now = expiresAt;
    expect(widget.status).to.equal('error');
    widget.send({ type: 'token', grant: grant('t2'), source: 'endpoint' });
    expect(widget.status).to.equal('ready');
    expect(nextDeadline(widget.state)).to.equal(null);
  });

  it('a vendor waiting for a token after its expiry event shows error while the source fails, and reloads when one comes', () => {
    const widget = machine().run();
    now += 10 * MINUTE;
    widget.send({ type: 'vendor-expired' });
    expect(widget.types()).to.deep.equal(['ask-replacement']);
    expect(widget.status).to.equal('refreshing');
    widget.send({ type: 'token-failed', error: transient, retryAt: now + 1_000 });
    expect(widget.status).to.equal('error');
    widget.send({ type: 'token', grant: grant('t2'), source: 'shared' });
    expect(widget.types()).to.deep.equal(['announce-token', 'hand-over', 'reload-vendor']);
    expect(widget.status).to.equal('refreshing');
    widget.send({ type: 'reload-begun' }, { type: 'reloaded', token: 't2' });
    expect(widget.types()).to.deep.equal(['announce-reload', 'settle']);
    expect(widget.status).to.equal('ready');
  });

  it('the rejected token itself is never the one to reload with', () => {
    const widget = machine().run();
    now += 10 * MINUTE;
    widget.send({ type: 'vendor-expired' }, { type: 'token', grant: grant('t1'), source: 'shared' });
    expect(widget.types()).to.deep.equal(['ask-replacement']);
    expect(widget.state.phase.name).to.equal('renewing');
  });
});

describe('recovery: reload-loop holds until refresh()', () => {
  function looped() {
    const widget = machine().run();
    now += 10 * MINUTE;
    widget.recoverWith('t2');
    now += 1_000;
    widget.recoverWith('t3');
    now += 1_000;
    widget.recoverWith('t4');
    now += 1_000;
    widget.send({ type: 'vendor-expired' });
    expect(widget.state.phase.name).to.equal('stopped');
    expect((widget.state.phase as { error: SecureWidgetError }).error.code).to.equal('reload-loop');
    return widget;
  }

  it('three fresh tokens rejected in a row stop the widget', () => {
    const widget = looped();
    expect(widget.types()).to.deep.equal(['announce-error']);
    expect(widget.status).to.equal('error');
  });

  it('a rejection of a token older than the fresh window starts the count over', () => {
    const widget = machine().run();
    now += 10 * MINUTE;
    widget.recoverWith('t2');
    now += 1_000;
    widget.recoverWith('t3');
    now += FRESH_REJECTION_WINDOW;
    widget.recoverWith('t4');
    expect(widget.state.freshRejections).to.equal(0);
    expect(widget.state.phase.name).to.equal('running');
  });

  it('no wake, token, page-wide reload, expiry event or clock moves it; refresh() does', () => {
    const widget = looped();
    now += 20 * MINUTE;
    for (const input of [
      { type: 'wake' },
      { type: 'token', grant: grant('t9'), source: 'endpoint' },
      { type: 'reloaded-by-page', token: 't9', reason: 'expired' },
      { type: 'vendor-expired' },
      { type: 'vendor-ready' },
      { type: 'clock' },
      { type: 'token-failed', error: transient, retryAt: now + 1_000 },
    ] as RecoveryInput[]) {
      widget.send(input);
      expect(widget.types(), input.type).to.deep.equal([]);
      expect(widget.status, input.type).to.equal('error');
    }
    widget.send({ type: 'refresh' });
    expect(widget.types()).to.deep.equal(['ask-refresh']);
    expect(widget.state.freshRejections).to.equal(0);
    widget.send({ type: 'token', grant: grant('t10'), source: 'endpoint' });
    expect(widget.types()).to.deep.equal(['announce-token', 'hand-over', 'reload-vendor']);
  });
});

describe('recovery: reload reasons', () => {
  it('a page-wide reload started by a refresh() elsewhere is manual here too', () => {
    const widget = machine().run();
    widget.send({ type: 'reloaded-by-page', token: 't1', reason: 'manual' });
    expect(widget.state.phase.name).to.equal('running');
    expect(widget.send({ type: 'reloaded-by-page', token: 't1', reason: 'manual' })).to.deep.equal([
      ['announce-reload', 'manual'],
    ]);
  });

  it('reload() with a valid token in hand reloads at once, without waiting: status stays ready', () => {
    const widget = machine().run();
    widget.send({ type: 'reload' });
    expect(widget.types()).to.deep.equal(['hand-over', 'reload-vendor']);
    expect(widget.status).to.equal('ready');
  });
});

describe('recovery: bursts of expiry events', () => {
  it('echoes before the reload begins are ignored; events during it earn one follow-up after the window', () => {
    const widget = machine().run();
    now += 10 * MINUTE;
    const burstAt = now;
    widget.send({ type: 'vendor-expired' }, { type: 'token', grant: grant('t2'), source: 'shared' });
    widget.send({ type: 'vendor-expired' }, { type: 'vendor-expired' });
    expect(widget.types()).to.deep.equal([]);
    widget.send({ type: 'reload-begun' });
    now += 10;
    widget.send({ type: 'vendor-expired' }, { type: 'vendor-expired' });
    expect(widget.types()).to.deep.equal([]);
    widget.send({ type: 'reloaded', token: 't2' });
    expect(nextDeadline(widget.state)).to.equal(burstAt + BURST_WINDOW);
    now = burstAt + BURST_WINDOW;
    widget.send({ type: 'clock' });
    expect(widget.types()).to.deep.equal(['ask-replacement']);
  });

  it('an expiry event after the reload but inside the burst window also earns the one follow-up', () => {
    const widget = machine().run();
    now += 10 * MINUTE;
    widget.recoverWith('t2');
    now += 20;
    widget.send({ type: 'vendor-expired' });
    expect(widget.types()).to.deep.equal([]);
    expect(widget.state.followUpAt).to.not.equal(null);
  });
});

describe('recovery: faults', () => {
  it('a failure the embedding may mend shows error until the vendor is ready', () => {
    const widget = machine();
    widget.send({ type: 'token', grant: grant('t1'), source: 'endpoint' });
    const timeout = new SecureWidgetError('frame-timeout', 'late', { fatal: false });
    widget.send({ type: 'vendor-failed', error: timeout, mends: true });
    expect(widget.status).to.equal('error');
    widget.send({ type: 'vendor-loaded', token: 't1' }, { type: 'vendor-ready' });
    expect(widget.status).to.equal('ready');
  });

  it('one it cannot mend stops until refresh(), which shows the vendor afresh', () => {
    const widget = machine();
    widget.send({ type: 'token', grant: grant('t1'), source: 'endpoint' }, { type: 'vendor-loaded', token: 't1' });
    const bundle = new SecureWidgetError('bundle-load', 'no script', { fatal: true });
    widget.send({ type: 'vendor-failed', error: bundle, mends: false });
    expect(widget.state.phase.name).to.equal('stopped');
    widget.send({ type: 'token', grant: grant('t2'), source: 'shared' });
    expect(widget.types(), 'a token alone does not retry').to.deep.equal([]);
    widget.send({ type: 'refresh' }, { type: 'token', grant: grant('t3'), source: 'endpoint' });
    expect(widget.types()).to.deep.equal(['ask-refresh', 'announce-token', 'hand-over', 'settle']);
    expect(widget.state.phase.name).to.equal('showing');
  });

  it('without a source, the vendor rejecting its server-rendered token stops with token-expired', () => {
    const widget = machine(false).run();
    now += 10 * MINUTE;
    widget.send({ type: 'vendor-expired' });
    expect(widget.state.phase.name).to.equal('stopped');
    expect((widget.state.phase as { error: SecureWidgetError }).error.code).to.equal('token-expired');
  });

  it('wake reloads a vendor still running on an expired token with the one in hand', () => {
    const widget = machine().run();
    widget.send({ type: 'token', grant: grant('t2', 30 * MINUTE), source: 'endpoint' });
    now += 20 * MINUTE;
    widget.send({ type: 'wake' });
    expect(widget.types()).to.deep.equal(['wake-source', 'hand-over', 'reload-vendor']);
  });
});
