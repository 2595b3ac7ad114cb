/**
 * One vendor call per user across instances, when the shared store fails for a moment: an instance waiting for another
 * one's vendor call (it found the user's claim taken) keeps waiting through a store failure rather than calling the
 * vendor too; a store that stays down sends it on alone, in bounded time. Two handlers share one store made here,
 * whose failures the test switches on and off, so every step waits on an explicit signal, never on time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTokenHandler, type CachedToken, type SharedTokenStore } from '../../src/server/index.js';

interface Switchboard {
  store: SharedTokenStore;
  /** While true, every cache read and claim throws, as a store that gave up on its commands does. */
  failing: boolean;
  /** Resolves when `count` cache reads or claims have failed in all. */
  failures(count: number): Promise<void>;
  /** Resolves when a claim has been refused (another instance holds it): the asker is a waiter from then on. */
  refused(): Promise<void>;
}

function switchboard(): Switchboard {
  const entries = new Map<string, CachedToken>();
  let holder: string | null = null;
  let failed = 0;
  const waiting: { count: number; resolve: () => void }[] = [];
  const refusals: (() => void)[] = [];
  const fail = (): never => {
    failed += 1;
    for (const waiter of waiting.filter((entry) => failed >= entry.count)) waiter.resolve();
    throw new Error('store gave up');
  };
  const board: Switchboard = {
    failing: false,
    failures: (count) => new Promise((resolve) => waiting.push({ count, resolve })),
    refused: () => new Promise((resolve) => refusals.push(resolve)),
    store: {
      cache: {
        get: async (key) => (board.failing ? fail() : entries.get(key)),
        set: async (key, entry) => void entries.set(key, entry),
      },
      singleFlight: {
        claim: async (key) => {
          if (board.failing) fail();
          if (holder !== null) {
            for (const resolve of refusals.splice(0)) resolve();
            return null;
          }
          holder = key;
          return async () => {
            holder = null;
          };
        },
      },
    },
  };
  return board;
}

/** A vendor whose calls are counted, each answered when the test says so, or `atOnce`. */
function vendor(atOnce = false) {
  const calls: (() => void)[] = [];
  const called: (() => void)[] = [];
  return {
    calls,
    /** Resolves once the vendor has been called `count` times. */
    called: (count: number) =>
      new Promise<void>((resolve) => (calls.length >= count ? resolve() : called.push(resolve))),
    issue: () =>
      new Promise<{ token: string; expiresIn: number }>((resolve) => {
        const answer = () => resolve({ token: `token-${calls.length}`, expiresIn: 900 });
        calls.push(answer);
        for (const resolveCalled of called.splice(0)) resolveCalled();
        if (atOnce) answer();
      }),
  };
}

function instance(board: Switchboard, issue: () => Promise<{ token: string; expiresIn: number }>) {
  return createTokenHandler({
    authorize: () => ({ id: 'u1' }),
    issue,
    store: board.store,
    logger: { warn: () => {} },
  });
}

const ask = (handler: (request: Request) => Promise<Response>) =>
  handler(new Request('https://app.example/api/widget-token'));

/**
 * Two instances sharing `board`: the holder, its vendor call under way (answered when the test says so), and a waiter
 * that has met the holder's claim. The waiter's vendor answers at once: a call it made would be answered, and counted.
 */
async function holderAndWaiter(board: Switchboard) {
  const holderVendor = vendor();
  const waiterVendor = vendor(true);
  const holder = ask(instance(board, holderVendor.issue));
  await holderVendor.called(1);
  const refused = board.refused();
  const waiter = ask(instance(board, waiterVendor.issue));
  await refused;
  return { holder, waiter, holderVendor, waiterVendor };
}

describe('one vendor call per user when the shared store fails for a moment', () => {
  it('a waiter keeps waiting through store failures, and takes the token the holder stores', async () => {
    const board = switchboard();
    const { holder, waiter, holderVendor, waiterVendor } = await holderAndWaiter(board);
    // The waiter polls; its store gives up on three commands in a row, then answers again.
    board.failing = true;
    await board.failures(3);
    board.failing = false;
    holderVendor.calls[0]!();
    const [first, second] = await Promise.all([holder, waiter]);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal((await second.json()).embedToken, (await first.json()).embedToken, 'one token for the user');
    assert.equal(waiterVendor.calls.length, 0, 'the waiter never called the vendor');
  });

  it('a store that stays down sends the waiter on alone, within the grace', async () => {
    const board = switchboard();
    const { holder, waiter, holderVendor, waiterVendor } = await holderAndWaiter(board);
    board.failing = true;
    assert.equal((await waiter).status, 200, 'the waiter answered on its own');
    assert.equal(waiterVendor.calls.length, 1, 'after calling the vendor itself');
    holderVendor.calls[0]!();
    assert.equal((await holder).status, 200);
  });
});
