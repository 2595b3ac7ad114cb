/**
 * Token handler instances, each in a process of its own (its own event loop and node-redis client), sharing one
 * Redis, as behind a load balancer: what test/server/redis-stress.test.ts asserts on and bench/server-redis.mjs
 * prints. In each round, a new token lifetime on the handlers' clock, every user sends a few requests at once, each
 * to another instance. Instances may stall: their event loop busy for a while at seeded random moments, as a long
 * synchronous task or a busy machine makes it.
 *
 * `runFleet` in the driving process. As a script: `node --import tsx test/server/redis-fleet.ts run '<options>'`
 * prints runFleet's report as JSON (for the benchmark, which runs without tsx); with `instance`, it is one instance,
 * driven over IPC.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Which build of the library the instances run: the source (tests) or dist/ (the benchmark). */
export type Library = 'src' | 'dist';

export interface FleetOptions {
  redisUrl: string;
  library: Library;
  instances: number;
  users: number;
  /** Requests a user sends at once in a round, each to another instance (at most `instances`). */
  concurrent: number;
  /** Rounds: each is a new token lifetime on the handlers' clock. */
  lifetimes: number;
  /**
   * Each instance's event loop busy for `ms`, after every `meanAsksBetween` requests it receives on average (uniformly
   * 1 to twice that), plus a random delay: counted in requests rather than in time, so that a fast and a slow machine
   * see as many stalls, all while users ask.
   */
  stalls?: Stalls;
  prefix: string;
}

export interface FleetReport {
  vendorCallsPerUserPerLifetime: number;
  /** User-rounds in which a user's concurrent requests did not all get the same token. */
  splitMoments: number;
  /** Answers other than 200. */
  failed: number;
  stalls: number;
  /** Redis commands the stores gave up on (timed out). */
  commandsGivenUp: number;
  /** Claims Redis made after their store had given up on them. */
  claimsGivenUp: number;
  /** The longest such a claim stayed in Redis after its store gave up (until released, or its whole lifetime). */
  longestHeldAfterGivingUpMs: number;
  /** User-lifetimes whose user's token was asked of the vendor more than once, across the fleet. */
  usersCalledAgain: number;
  /**
   * Vendor calls made by an instance that held no claim on the user for that lifetime: its store had failed (a
   * command given up, or the pause after one), so it went on alone. Every vendor call over one per user per lifetime
   * is one of these, unless a claim lapsed or a waiter gave up waiting.
   */
  callsWithoutClaim: number;
  /**
   * Of those, calls by an instance that had found another's claim on the user (SET NX answered nil) in that lifetime:
   * a waiter that went on alone, although the holder was calling the vendor and would store the token.
   */
  callsByWaiters: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
}

export interface Stalls {
  ms: number;
  meanAsksBetween: number;
  seed: number;
}

const TOKEN_LIFETIME_S = 900;
/** The fake vendor's answer time. */
const VENDOR_MS = 5;
/**
 * The handler's timeoutMs, and so the lifetime of a claim (what a waiter used to wait behind a claim nobody held).
 * Generous: on a loaded machine an instance may take seconds to answer, and what is under test is the sharing, not
 * the vendor's deadline (nor the waiters', timeoutMs too).
 */
const HANDLER_TIMEOUT_MS = 15_000;
/** How long an instance that was told to finish may take to exit (closing its client). */
const INSTANCE_EXIT_MS = 10_000;
/** A stall starts this long at most after the request that triggers it: anywhere in that request's handling. */
const STALL_DELAY_MS = 50;

type ToInstance =
  | { type: 'ask'; id: number; user: string; now: number }
  | ({ type: 'stall' } & Stalls)
  | { type: 'finish' };

type FromInstance =
  | { type: 'ready' }
  | { type: 'answer'; id: number; status: number; token: string | undefined }
  | {
      type: 'finished';
      vendorCalls: number;
      /** Vendor calls per `<lifetime's now>|<user>`. */
      callsByUserLifetime: Record<string, number>;
      callsWithoutClaim: number;
      callsByWaiters: number;
      stalls: number;
      commandsGivenUp: number;
      heldAfterGivingUp: number[];
    };

interface InstanceSetup {
  index: number;
  redisUrl: string;
  library: Library;
  prefix: string;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const THIS_FILE = fileURLToPath(import.meta.url);

export async function runFleet(options: FleetOptions): Promise<FleetReport> {
  const { instances: count, users: userCount, concurrent, lifetimes } = options;
  if (concurrent > count) throw new RangeError('runFleet: concurrent requests go to different instances');
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, index) => startInstance({ ...options, index })),
  );
  const children = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failedStart = started.find((result) => result.status === 'rejected');
    if (failedStart) throw failedStart.reason;
    if (options.stalls) {
      const { seed } = options.stalls;
      for (const [index, instance] of children.entries()) {
        instance.send({ type: 'stall', ...options.stalls!, seed: seed + index });
      }
    }
    const users = Array.from({ length: userCount }, (_, index) => `user-${index}`);
    const latencies: number[] = [];
    let splitMoments = 0;
    let failed = 0;
    const start = Date.now();
    for (let round = 0; round < lifetimes; round++) {
      const now = start + round * TOKEN_LIFETIME_S * 1000;
      const answers = await Promise.all(
        users.flatMap((user, u) =>
          Array.from({ length: concurrent }, async (_, k) => {
            const began = performance.now();
            const answer = await children[(u + k) % count]!.ask(user, now);
            latencies.push(performance.now() - began);
            return answer;
          }),
        ),
      );
      failed += answers.filter(({ status }) => status !== 200).length;
      for (let u = 0; u < userCount; u++) {
        const tokens = new Set(answers.slice(u * concurrent, (u + 1) * concurrent).map(({ token }) => token));
        if (tokens.size !== 1) splitMoments += 1;
      }
    }
    const finished = await Promise.all(children.map((instance) => instance.finish()));
    latencies.sort((a, b) => a - b);
    const held = finished.flatMap(({ heldAfterGivingUp }) => heldAfterGivingUp);
    const callsByUserLifetime = new Map<string, number>();
    for (const report of finished) {
      for (const [key, calls] of Object.entries(report.callsByUserLifetime)) {
        callsByUserLifetime.set(key, (callsByUserLifetime.get(key) ?? 0) + calls);
      }
    }
    const sum = (pick: (report: Finished) => number): number =>
      finished.reduce((total, report) => total + pick(report), 0);
    return {
      vendorCallsPerUserPerLifetime: sum((report) => report.vendorCalls) / userCount / lifetimes,
      splitMoments,
      failed,
      stalls: sum((report) => report.stalls),
      commandsGivenUp: sum((report) => report.commandsGivenUp),
      claimsGivenUp: held.length,
      longestHeldAfterGivingUpMs: Math.round(Math.max(0, ...held)),
      usersCalledAgain: [...callsByUserLifetime.values()].filter((calls) => calls > 1).length,
      callsWithoutClaim: sum((report) => report.callsWithoutClaim),
      callsByWaiters: sum((report) => report.callsByWaiters),
      latencyP99Ms: Math.round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
      latencyMaxMs: Math.round(latencies.at(-1) ?? 0),
    };
  } finally {
    await Promise.all(children.map((instance) => instance.stop()));
  }
}

type Finished = Extract<FromInstance, { type: 'finished' }>;

interface Instance {
  send(message: ToInstance): void;
  ask(user: string, now: number): Promise<{ status: number; token: string | undefined }>;
  /** Resolves what the instance counted; it then exits by itself. */
  finish(): Promise<Finished>;
  /** Waits for an instance that was told to finish to exit (killing it after INSTANCE_EXIT_MS); kills any other. */
  stop(): Promise<void>;
}

async function startInstance(setup: InstanceSetup): Promise<Instance> {
  const child = fork(THIS_FILE, ['instance', JSON.stringify(setup)], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Whatever waits on an instance that died fails, rather than hang the run.
  const died = exited.then(() => {
    throw new Error(`instance ${setup.index} exited (${child.exitCode ?? child.signalCode})`);
  });
  died.catch(() => {});
  const pending = new Map<number, (answer: { status: number; token: string | undefined }) => void>();
  let onReady: (() => void) | undefined;
  let onFinished: ((report: Finished) => void) | undefined;
  let finishing = false;
  child.on('message', (message: FromInstance) => {
    if (message.type === 'ready') onReady?.();
    else if (message.type === 'answer') {
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    } else onFinished?.(message);
  });
  const send = (message: ToInstance): void => {
    child.send(message);
  };
  let nextId = 0;
  const instance: Instance = {
    send,
    ask: (user, now) =>
      Promise.race([
        new Promise<{ status: number; token: string | undefined }>((resolve) => {
          const id = nextId++;
          pending.set(id, resolve);
          send({ type: 'ask', id, user, now });
        }),
        died,
      ]),
    finish: () =>
      Promise.race([
        new Promise<Finished>((resolve) => {
          onFinished = resolve;
          finishing = true;
          send({ type: 'finish' });
        }),
        died,
      ]),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), finishing ? INSTANCE_EXIT_MS : 0);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await Promise.race([new Promise<void>((resolve) => (onReady = resolve)), died]);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  return instance;
}

// --- one instance ---------------------------------------------------------------------------------------------------

/** mulberry32: a small seeded generator, so that a run's stall schedule can be told and run again. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

async function runInstance({ index, redisUrl, library, prefix }: InstanceSetup): Promise<void> {
  type Server = typeof import('../../src/server/index.js');
  type Redis = typeof import('../../src/server/redis/index.js');
  const modules =
    library === 'dist'
      ? [path.join(ROOT, 'dist/server.js'), path.join(ROOT, 'dist/server-redis.js')]
      : [path.join(ROOT, 'src/server/index.ts'), path.join(ROOT, 'src/server/redis/index.ts')];
  const [{ createTokenHandler }, { redisStore }] = (await Promise.all(
    modules.map((file) => import(pathToFileURL(file).href)),
  )) as [Server, Redis];
  const { createClient } = await import('redis');

  const client = createClient({ url: redisUrl });
  client.on('error', () => {});
  await client.connect();

  // What the store sends, watched: a claim (SET NX) whose store gave up on it (it aborts the command's signal when it
  // does) but that Redis made all the same, and when it was let go (the release script, owner-checked, deleting it).
  let clock = Date.now();
  let commandsGivenUp = 0;
  const claims = new Map<string, { gaveUpAt?: number; madeAt?: number; releasedAt?: number }>();
  // Which user's request a command serves (the one that started the flight), and the claims this instance held on
  // time, per `<lifetime's now>|<user>`: a vendor call without one went on alone.
  const asking = new AsyncLocalStorage<string>();
  const claimed = new Set<string>();
  const waited = new Set<string>();
  const watched: Promise<unknown>[] = [];
  const observed: Parameters<Redis['redisStore']>[0]['client'] = {
    get isReady() {
      return client.isReady;
    },
    sendCommand(args, options) {
      const answer: Promise<unknown> = client.sendCommand(args, options);
      options?.abortSignal?.addEventListener('abort', () => (commandsGivenUp += 1), { once: true });
      if (args[0] === 'SET' && args[3] === 'NX') {
        const claim: { gaveUpAt?: number; madeAt?: number; releasedAt?: number } = {};
        claims.set(args[2]!, claim);
        options?.abortSignal?.addEventListener('abort', () => (claim.gaveUpAt = performance.now()), { once: true });
        const user = asking.getStore();
        const lifetime = clock;
        watched.push(
          answer.then(
            (reply) => {
              if (reply === null && user !== undefined) waited.add(`${lifetime}|${user}`);
              if (reply !== 'OK') return;
              claim.madeAt = performance.now();
              if (claim.gaveUpAt === undefined && user !== undefined) claimed.add(`${lifetime}|${user}`);
            },
            () => {},
          ),
        );
      } else if (args[0] === 'EVALSHA' && args[3]?.startsWith(`${prefix}lock:`)) {
        const claim = claims.get(args[4]!);
        watched.push(
          answer.then(
            (deleted) => claim && deleted === 1 && (claim.releasedAt = performance.now()),
            () => {},
          ),
        );
      }
      return answer;
    },
  };

  let vendorCalls = 0;
  let callsWithoutClaim = 0;
  let callsByWaiters = 0;
  const callsByUserLifetime: Record<string, number> = {};
  const handler = createTokenHandler<string>({
    authorize: (request) => request.headers.get('x-user'),
    issue: async (user) => {
      const call = ++vendorCalls;
      const key = `${clock}|${user}`;
      callsByUserLifetime[key] = (callsByUserLifetime[key] ?? 0) + 1;
      if (!claimed.has(key)) {
        callsWithoutClaim += 1;
        if (waited.has(key)) callsByWaiters += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, VENDOR_MS));
      return { token: `tok.${user}.${index}.${call}`, expiresIn: TOKEN_LIFETIME_S };
    },
    now: () => clock,
    timeoutMs: HANDLER_TIMEOUT_MS,
    logger: { warn: () => {} },
    store: redisStore({ client: observed, prefix }),
  });

  let stalls = 0;
  let stallPlan: { ms: number; meanAsksBetween: number; random: () => number } | undefined;
  let asksUntilStall = Infinity;
  const stallNow = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // The event loop is busy: timers, I/O and IPC all wait.
    }
    stalls += 1;
  };
  const countAsk = (): void => {
    if (!stallPlan || --asksUntilStall > 0) return;
    const { ms, meanAsksBetween, random } = stallPlan;
    asksUntilStall = 1 + Math.floor(random() * 2 * meanAsksBetween);
    // Only while the run lasts: a stall due after 'finish' is dropped.
    setTimeout(() => stallPlan && stallNow(ms), random() * STALL_DELAY_MS);
  };

  process.on('message', async (message: ToInstance) => {
    if (message.type === 'ask') {
      clock = message.now;
      countAsk();
      const response = await asking.run(message.user, () =>
        handler(new Request('http://localhost/api/widget-token', { headers: { 'x-user': message.user } })),
      );
      const body = (await response.json()) as { embedToken?: string };
      process.send!({
        type: 'answer',
        id: message.id,
        status: response.status,
        token: body.embedToken,
      } satisfies FromInstance);
    } else if (message.type === 'stall') {
      const random = seeded(message.seed);
      stallPlan = { ...message, random };
      asksUntilStall = 1 + Math.floor(random() * 2 * message.meanAsksBetween);
    } else {
      stallPlan = undefined;
      // Every claim's answer, and every release that answer started, is in before the count.
      for (let seen = -1; seen !== watched.length; ) {
        seen = watched.length;
        await Promise.all(watched);
        await new Promise((resolve) => setImmediate(resolve));
      }
      const heldAfterGivingUp = [...claims.values()]
        .filter((claim) => claim.gaveUpAt !== undefined && claim.madeAt !== undefined)
        .map((claim) => (claim.releasedAt ?? claim.madeAt! + HANDLER_TIMEOUT_MS) - claim.gaveUpAt!);
      process.send!(
        {
          type: 'finished',
          vendorCalls,
          callsByUserLifetime,
          callsWithoutClaim,
          callsByWaiters,
          stalls,
          commandsGivenUp,
          heldAfterGivingUp,
        } satisfies FromInstance,
        () => {
          client.destroy();
          process.disconnect();
        },
      );
    }
  });
  process.send!({ type: 'ready' } satisfies FromInstance);
}

if (process.argv[1] === THIS_FILE) {
  const [mode, options] = process.argv.slice(2);
  if (mode === 'instance') await runInstance(JSON.parse(options!));
  else if (mode === 'run') console.log(JSON.stringify(await runFleet(JSON.parse(options!))));
  else throw new Error(`redis-fleet.ts: unknown mode ${mode} (instance or run)`);
}
