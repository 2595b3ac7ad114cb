/**
 * secure-widget/server/redis against a real redis-server (started here on a free port, stopped by its PID): four
 * handler instances, each with its own memory and its own client, share one cache, one rate limit and one vendor call
 * per user, and answer on their own whenever Redis is gone, slow or junk.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { createTokenHandler, type TokenHandlerOptions } from '../../src/server/index.js';
import { redisStore, type RedisStoreClient, type RedisStoreOptions } from '../../src/server/redis/index.js';
import { redisMissing, startRedis, type RedisServer } from './redis-server.js';

const missing = redisMissing();
if (missing) console.log(`# skipping the Redis store tests: ${missing}`);

const TTL = 900;
const PREFIX = 'sw-test:';

// A quick reconnect, so that a restarted Redis is found again within the test.
const newClient = (url: string) => createClient({ url, socket: { reconnectStrategy: () => 50, connectTimeout: 500 } });
type Client = ReturnType<typeof newClient>;
// A real node-redis client is what the store takes, checked by the compiler.
const fits = (client: Client): RedisStoreClient => client;

interface Instance {
  handler: (request: Request) => Promise<Response>;
  logs: string[];
}

interface Fleet {
  instances: Instance[];
  vendorCalls: Map<string, number>;
  clock: { now: number };
  total(): number;
}

describe('the Redis store', { skip: missing, timeout: 60_000 }, () => {
  let redis: RedisServer;
  const clients: Client[] = [];
  let admin: Client;

  const connect = async (): Promise<Client> => {
    const client = newClient(redis.url);
    client.on('error', () => {});
    await client.connect();
    clients.push(client);
    return client;
  };

  before(async () => {
    redis = await startRedis();
    admin = await connect();
  });

  after(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await redis?.stop();
  });

  /**
   * `count` instances, each its own handler, memory and client, sharing a vendor (a fake one, ~5 ms a call). They share
   * this process's event loop too, which a loaded machine lags past the store's 200 ms: the store's default all the
   * same, since it does not count this process's own delays against Redis.
   */
  async function fleet(
    count: number,
    extra: Partial<TokenHandlerOptions<string>> = {},
    store: Partial<RedisStoreOptions> = {},
  ): Promise<Fleet> {
    const clock = { now: Date.now() };
    const vendorCalls = new Map<string, number>();
    const instances: Instance[] = [];
    for (let index = 0; index < count; index++) {
      const client = await connect();
      const logs: string[] = [];
      const handler = createTokenHandler<string>({
        authorize: (request) => request.headers.get('x-user'),
        issue: async (user) => {
          const n = (vendorCalls.get(user) ?? 0) + 1;
          vendorCalls.set(user, n);
          await new Promise((resolve) => setTimeout(resolve, 5));
          // A user id may hold characters a bearer token may not (an email address's @).
          return { token: `tok.${user.replace(/[^\w.-]/g, '_')}.${n}`, expiresIn: TTL };
        },
        now: () => clock.now,
        timeoutMs: 1000,
        logger: { warn: (message) => logs.push(`${message} @${clock.now}`) },
        store: redisStore({ client: fits(client), prefix: PREFIX, ...store }),
        ...extra,
      });
      instances.push({ handler, logs });
    }
    return { instances, vendorCalls, clock, total: () => [...vendorCalls.values()].reduce((a, b) => a + b, 0) };
  }

  const ask = (instance: Instance, user: string): Promise<Response> =>
    instance.handler(new Request('http://localhost/api/widget-token', { headers: { 'x-user': user } }));

  const tokenKey = (user: string): string => `${PREFIX}token:${createHash('sha256').update(user).digest('base64url')}`;

  describe('shares one vendor call per user across instances', () => {
    it('4 instances × 500 users × concurrent requests: at most 1.05 vendor calls per user per token lifetime', async () => {
      const { instances, clock, total } = await fleet(4);
      const users = Array.from({ length: 500 }, (_, index) => `burst-${index}`);
      const lifetimes = 3;
      for (let round = 0; round < lifetimes; round++) {
        // Every user asks every instance twice, all at once; 25 users at a time, since the four "instances" share
        // this one process, and 4,000 requests at once would keep it busy for seconds: past the handler's wall-clock
        // bound on a store call, which counts what a client waits.
        const answers: Response[] = [];
        for (let offset = 0; offset < users.length; offset += 25) {
          const batch = users.slice(offset, offset + 25);
          answers.push(
            ...(await Promise.all(
              batch.flatMap((user) => instances.flatMap((instance) => [ask(instance, user), ask(instance, user)])),
            )),
          );
        }
        const statuses = new Set(answers.map((response) => response.status));
        assert.deepEqual([...statuses], [200]);
        // All the answers of a user in a round carry the same token.
        const tokens = await Promise.all(
          answers.map(async (response) => ((await response.json()) as { embedToken: string }).embedToken),
        );
        const perUser = new Map<string, Set<string>>();
        tokens.forEach((token, index) => {
          const user = users[Math.floor(index / (instances.length * 2))]!;
          perUser.set(user, (perUser.get(user) ?? new Set()).add(token));
        });
        const shared = [...perUser.values()].filter((set) => set.size === 1).length;
        assert.ok(shared >= users.length * 0.95, `${shared} of ${users.length} users got one token from all instances`);
        clock.now += TTL * 1000;
      }
      const perUserPerLifetime = total() / users.length / lifetimes;
      assert.ok(perUserPerLifetime <= 1.05, `${perUserPerLifetime.toFixed(3)} vendor calls per user per lifetime`);
    });

    it('keys name users by hash only; tokens live in Redis no longer than they are valid; no lock is left', async () => {
      const { instances, clock } = await fleet(2);
      const user = 'alice@example.com';
      assert.equal((await ask(instances[0]!, user)).status, 200);
      assert.equal((await ask(instances[1]!, user)).status, 200);
      const keys = await admin.keys(`${PREFIX}*`);
      assert.ok(keys.length > 0);
      for (const key of keys) assert.ok(!key.includes('alice') && !key.includes('example'), key);
      assert.ok(keys.includes(tokenKey(user)));
      assert.ok(!keys.some((key) => key.startsWith(`${PREFIX}lock:`)), 'no claim outlives its vendor call');
      const ttl = await admin.pTTL(tokenKey(user));
      const left = (Math.floor(clock.now / 1000) + TTL) * 1000 - Date.now();
      assert.ok(ttl > 0 && ttl <= left + 1000, `PTTL ${ttl} for a token with ${left} ms left`);
      const rate = keys.find((key) => key.startsWith(`${PREFIX}rate:`))!;
      assert.ok((await admin.pTTL(rate)) <= 60_000);
    });

    it('a waiter whose winner died takes over once the claim lapses', async () => {
      const { instances, vendorCalls } = await fleet(1, { timeoutMs: 300 });
      const user = 'orphaned';
      // A claim left by an instance that died mid-call: it lapses after the handler's timeoutMs.
      await admin.set(`${PREFIX}lock:${createHash('sha256').update(user).digest('base64url')}`, 'dead', { PX: 300 });
      const started = performance.now();
      const response = await ask(instances[0]!, user);
      assert.equal(response.status, 200);
      assert.equal(vendorCalls.get(user), 1);
      const waited = performance.now() - started;
      assert.ok(waited >= 250 && waited < 1000, `answered after ${Math.round(waited)} ms`);
    });
  });

  describe('holds one rate limit per user across instances', () => {
    it('the 31st request of a user in a minute is 429, whichever instance answers', async () => {
      const { instances, clock } = await fleet(4);
      const user = 'counted';
      for (let n = 0; n < 30; n++) assert.equal((await ask(instances[n % 4]!, user)).status, 200, `request ${n + 1}`);
      for (const instance of instances) {
        const refused = await ask(instance, user);
        assert.equal(refused.status, 429);
        assert.equal(refused.headers.get('Retry-After'), '2');
      }
      // A token bucket: 30 a minute is one every 2 s.
      clock.now += 2000;
      assert.equal((await ask(instances[3]!, user)).status, 200);
      assert.equal((await ask(instances[0]!, user)).status, 429);
    });
  });

  describe('answers on its own when Redis fails', () => {
    it('Redis killed mid-run: every request answered; after a restart, sharing resumes', async () => {
      const { instances, clock, vendorCalls, total } = await fleet(4, { rateLimit: { max: 1000 } });
      const users = Array.from({ length: 100 }, (_, index) => `crash-${index}`);
      const round = () => Promise.all(users.flatMap((user) => instances.map((instance) => ask(instance, user))));

      const first = await round();
      assert.ok(first.every((response) => response.status === 200));
      clock.now += TTL * 1000;

      // Killed while a round is in flight, and down for another round: each instance on its own, as without Redis.
      const during = round();
      await redis.kill();
      try {
        const answers = await during;
        assert.deepEqual([...new Set(answers.map((response) => response.status))], [200]);
        clock.now += TTL * 1000;
        const down = await round();
        assert.deepEqual([...new Set(down.map((response) => response.status))], [200]);
      } finally {
        // Whatever failed above, the tests after this one get a Redis again.
        await redis.restart();
      }
      for (const { logs } of instances) {
        // One line per 30 s of the handler's clock at most, not one per request.
        const stamps = logs.filter((line) => line.includes('store-failed')).map((line) => Number(line.split('@')[1]));
        for (const [index, stamp] of stamps.entries()) {
          if (index > 0) assert.ok(stamp - stamps[index - 1]! >= 30_000, logs.join('\n'));
        }
        for (const line of logs) assert.ok(!line.includes('tok.') && !line.includes(PREFIX), line);
      }
      assert.ok(instances.some(({ logs }) => logs.some((line) => line.includes('store-failed'))));

      await waitFor(() => clients.every((client) => client.isReady));
      // A store whose command timed out sends nothing for a second (so that a dead Redis costs each request nothing).
      await new Promise((resolve) => setTimeout(resolve, 1100));
      clock.now += TTL * 1000;
      const before = total();
      const after = await round();
      assert.deepEqual([...new Set(after.map((response) => response.status))], [200]);
      const perUser = (total() - before) / users.length;
      assert.ok(perUser <= 1.05, `${perUser} vendor calls per user after the restart`);
      assert.equal(vendorCalls.size, users.length);
    });

    it('Redis paused (answers nothing): requests are answered within the command timeout', async () => {
      const { instances, clock } = await fleet(2, {}, { commandTimeoutMs: 100 });
      assert.equal((await ask(instances[0]!, 'slow-1')).status, 200);
      clock.now += TTL * 1000;
      redis.pause();
      try {
        const started = performance.now();
        const answers = await Promise.all([ask(instances[0]!, 'slow-1'), ask(instances[1]!, 'slow-2')]);
        assert.deepEqual(
          answers.map((response) => response.status),
          [200, 200],
        );
        const took = performance.now() - started;
        assert.ok(took < 800, `answered in ${Math.round(took)} ms`);
        // Within a second of a timeout the store does not wait again.
        const quick = performance.now();
        assert.equal((await ask(instances[0]!, 'slow-3')).status, 200);
        assert.ok(performance.now() - quick < 100);
      } finally {
        redis.resume();
      }
    });

    it('junk at a store key is a miss, never a token', async () => {
      const { instances, vendorCalls } = await fleet(1);
      const exp = Math.floor(Date.now() / 1000) + TTL;
      const junk: Array<[string, string]> = [
        ['junk-text', 'hello'],
        ['junk-json', '{"v":"secure-widget/1","token":"","expiresAt":1,"issuedAt":1}'],
        ['junk-other-app', JSON.stringify({ token: 'stolen', expiresAt: exp, issuedAt: exp - TTL })],
        ['junk-wrong-times', JSON.stringify({ v: 'secure-widget/1', token: 'stolen', expiresAt: 'soon', issuedAt: 0 })],
        [
          'junk-huge',
          JSON.stringify({ v: 'secure-widget/1', token: 'x'.repeat(20_000), expiresAt: exp, issuedAt: exp - TTL }),
        ],
      ];
      for (const [user, value] of junk) {
        await admin.set(tokenKey(user), value);
        const response = await ask(instances[0]!, user);
        assert.equal(response.status, 200, user);
        assert.equal(((await response.json()) as { embedToken: string }).embedToken, `tok.${user}.1`, user);
      }
      // Another type at the key (a hash): Redis refuses the GET, the handler goes on without it.
      await admin.hSet(tokenKey('junk-hash'), 'token', 'stolen');
      const response = await ask(instances[0]!, 'junk-hash');
      assert.equal(((await response.json()) as { embedToken: string }).embedToken, 'tok.junk-hash.1');
      assert.equal(vendorCalls.size, junk.length + 1);
    });
  });

  describe('judges a timeout by what Redis said, not by how busy this process was', () => {
    /** The event loop busy, as a long synchronous task or a loaded machine makes it: no timer, no I/O meanwhile. */
    const blockEventLoop = (ms: number): void => {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        // Busy.
      }
    };
    const BUSY_MS = 300;
    const COMMAND_TIMEOUT_MS = 100;

    it('a reply that arrived while the event loop was busy is an answer, and pauses nothing', async () => {
      const store = redisStore({ client: await connect(), prefix: PREFIX, commandTimeoutMs: COMMAND_TIMEOUT_MS });
      // Busy before node-redis has even written the command (it writes in a setImmediate).
      const beforeWrite = store.cache.get('busy-before-write');
      blockEventLoop(BUSY_MS);
      assert.equal(await beforeWrite, undefined);
      // Busy once the command is out: Redis answers meanwhile, and the reply waits on the socket while the timer is due.
      const afterWrite = store.cache.get('busy-after-write');
      await new Promise((resolve) => setImmediate(resolve));
      blockEventLoop(BUSY_MS);
      assert.equal(await afterWrite, undefined);
      // No pause followed: the next command goes to Redis (a pause would reject it at once).
      assert.equal(await store.cache.get('busy-next'), undefined);
    });

    it('every answer restarts the clock of the commands still waiting behind it', async () => {
      // A connection that answers in order, one answer every 60 ms: the fifth command waits 300 ms, three times the
      // timeout, yet Redis was never silent for 100 ms.
      const ANSWER_EVERY_MS = 60;
      let queued = 0;
      const steady: RedisStoreClient = {
        sendCommand: () => new Promise((resolve) => setTimeout(() => resolve(null), ++queued * ANSWER_EVERY_MS)),
      };
      const store = redisStore({ client: steady, commandTimeoutMs: COMMAND_TIMEOUT_MS });
      const answers = await Promise.allSettled(
        Array.from({ length: 5 }, (_, index) => store.cache.get(`queued-${index}`)),
      );
      assert.deepEqual(
        answers.map(({ status }) => status),
        Array(5).fill('fulfilled'),
      );
      // A connection that never answers still times out, once, and the store then pauses.
      const silent: RedisStoreClient = { sendCommand: () => new Promise(() => {}) };
      const stuck = redisStore({ client: silent, commandTimeoutMs: COMMAND_TIMEOUT_MS });
      await assert.rejects(async () => stuck.cache.get('silent'), /did not answer within 100 ms/);
      await assert.rejects(async () => stuck.cache.get('silent'), /timed out a moment ago/);
    });

    it('a claim Redis made after the store gave up on it is released at once, so the next instance waits < 1 s', async () => {
      // Claims live for the handler's timeoutMs: 5 s, as by default, so that a claim left behind would show.
      const { instances, vendorCalls } = await fleet(
        2,
        { rateLimit: false, timeoutMs: 5000 },
        { commandTimeoutMs: COMMAND_TIMEOUT_MS },
      );
      const [first, second] = instances;
      const user = 'late-claim';
      // Redis holds every write for 400 ms (reads still answer): the first instance's SET NX times out, and Redis
      // makes the claim once the pause ends, after that instance has answered on its own.
      await admin.sendCommand(['CLIENT', 'PAUSE', '400', 'WRITE']);
      assert.equal((await ask(first!, user)).status, 200);
      // A write of our own answers once the pause is over: the claim has been made by then.
      await admin.set(`${PREFIX}after-pause`, '1');
      const started = performance.now();
      assert.equal((await ask(second!, user)).status, 200);
      const waited = performance.now() - started;
      assert.ok(waited < 1000, `the second instance waited ${Math.round(waited)} ms behind a claim nobody held`);
      assert.equal(vendorCalls.get(user), 2);
      // The second instance lets go of its own claim once its token is stored, just after it has answered.
      await waitFor(async () => (await admin.keys(`${PREFIX}lock:*`)).length === 0);
    });
  });

  describe('options are checked up front', () => {
    it('names the option that is wrong', () => {
      const client = clients[0]!;
      const cases: Array<[() => unknown, RegExp]> = [
        [() => redisStore(undefined as never), /redisStore: options must be an object/],
        [() => redisStore({ client: {} as never }), /options\.client must be a node-redis client/],
        [() => redisStore({ client, prefix: 'a b' }), /options\.prefix/],
        [() => redisStore({ client, keySecret: 'short' }), /options\.keySecret must be a string of at least 16/],
        [() => redisStore({ client, commandTimeoutMs: 0 }), /options\.commandTimeoutMs/],
        [
          () => createTokenHandler({ authorize: () => 'u', issue: async () => 't', store: {} as never }),
          /options\.store\.cache must have get/,
        ],
        [
          () =>
            createTokenHandler({
              authorize: () => 'u',
              issue: async () => 't',
              store: redisStore({ client }),
              cache: false,
            }),
          /pass options\.store or options\.cache, not both/,
        ],
        [
          () =>
            createTokenHandler({
              authorize: () => 'u',
              issue: async () => 't',
              store: { ...redisStore({ client }), singleFlight: {} as never },
            }),
          /options\.store\.singleFlight must have a claim/,
        ],
        [
          () =>
            createTokenHandler({
              authorize: () => 'u',
              issue: async () => 't',
              store: { ...redisStore({ client }), timeoutMs: -1 },
            }),
          /options\.store\.timeoutMs must be a positive integer/,
        ],
      ];
      for (const [make, message] of cases)
        assert.throws(make, (error: unknown) => error instanceof TypeError && message.test(error.message));
    });

    it("says how long its longest call may take, so that the handler's bound never cuts a command short", () => {
      // A script call that finds its script gone (EVALSHA, SCRIPT LOAD, EVALSHA), and 2 s for a busy instance.
      assert.equal(redisStore({ client: clients[0]!, commandTimeoutMs: 1500 }).timeoutMs, 6500);
      assert.equal(redisStore({ client: clients[0]! }).timeoutMs, 2600);
    });
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
