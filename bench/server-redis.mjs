#!/usr/bin/env node
// The token handler on several instances, BUILT (dist/server.js, dist/server-redis.js), against a redis-server this
// bench starts on a free port (and stops by its PID):
//   1. vendor calls per user per token lifetime, 4 instances × 200 users, each user sending 3 requests at once to 3
//      instances in each of 10 lifetimes (test/server/redis-fleet.ts, each instance a process of its own): with memory
//      only (in-process), then sharing Redis on a quiet machine, with both cores loaded by CPU hogs this bench starts
//      (and stops by their PIDs), and loaded with every instance's event loop also stalling 300 ms at random moments;
//   2. requests per second on a cache hit, in-process, one instance: in-memory beside Redis (the rate limit, shared,
//      is the one Redis command a hit costs; the token itself comes from the instance's memory).
// Run `npm run build && node bench/server-redis.mjs`. Exits non-zero when a budget does not hold. No token is printed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { createTokenHandler } from '../dist/server.js';
import { redisStore } from '../dist/server-redis.js';

const COMMAND = 'npm run build && node bench/server-redis.mjs';
const BUDGET = { redisCallsPerUserPerLifetime: 1.05 };
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const INSTANCES = 4;
const USERS = 200;
const CONCURRENT = 3;
const LIFETIMES = 10;
const TTL = 900;
// A busy instance: its event loop stalls 300 ms, here after every 150 requests on average (each instance
// receives 150 a lifetime).
const STALLS = { ms: 300, meanAsksBetween: 150, seed: 19 };
// Redis stands for a server of its own, as in production: ahead of the hogs (a negative nice value; root only).
const REDIS_NICE = -10;
// A hog ends by itself after this long, should the bench die before it stops them.
const HOG_LIFETIME_MS = 600_000;

// --- a redis-server of our own ---------------------------------------------------------------------------------------

const port = await new Promise((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = probe.address();
    probe.close(() => resolve(free));
  });
});
const dir = mkdtempSync(path.join(tmpdir(), 'secure-widget-bench-redis-'));
let redis;
try {
  redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  await new Promise((resolve, reject) => {
    let output = '';
    redis.once('error', reject);
    redis.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    redis.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
} catch (error) {
  rmSync(dir, { recursive: true, force: true });
  console.error(
    `redis-server could not start (${error.message}): install it (Debian: apt-get install -y redis-server)`,
  );
  process.exit(1);
}
redis.stdout.resume();
let redisAhead = true;
try {
  setPriority(redis.pid, REDIS_NICE);
} catch {
  redisAhead = false;
}
const clients = [];
const connect = async () => {
  const client = createClient({ url: `redis://127.0.0.1:${port}` });
  client.on('error', () => {});
  await client.connect();
  clients.push(client);
  return client;
};

async function stopRedis() {
  for (const client of clients.splice(0)) client.destroy();
  if (redis.exitCode === null && redis.signalCode === null) {
    const exited = new Promise((resolve) => redis.once('exit', resolve));
    process.kill(redis.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
}

// --- 1. vendor calls per user per lifetime, 4 instances ------------------------------------------------------------------

const ask = (handler, user) =>
  handler(new Request('http://localhost/api/widget-token', { headers: { 'x-user': user } }));

/** Four handlers in this process, each with its memory only: what four instances cost without a shared store. */
async function memoryFleet() {
  const clock = { now: Date.now() };
  let calls = 0;
  let failed = 0;
  const handlers = Array.from({ length: INSTANCES }, () =>
    createTokenHandler({
      authorize: (request) => request.headers.get('x-user'),
      issue: async (user) => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { token: `tok.${user}.${calls}`, expiresIn: TTL };
      },
      now: () => clock.now,
      logger: { warn: () => {} },
    }),
  );
  const users = Array.from({ length: USERS }, (_, index) => `m${index}`);
  for (let lifetime = 0; lifetime < LIFETIMES; lifetime++) {
    const answers = await Promise.all(
      users.flatMap((user, u) =>
        Array.from({ length: CONCURRENT }, (_, k) => ask(handlers[(u + k) % INSTANCES], user)),
      ),
    );
    failed += answers.filter((response) => response.status !== 200).length;
    clock.now += TTL * 1000;
  }
  return { vendorCallsPerUserPerLifetime: calls / USERS / LIFETIMES, failed, splitMoments: undefined };
}

/** Four instance processes sharing Redis (test/server/redis-fleet.ts, run through tsx since it is TypeScript). */
function redisFleet(name, stalls) {
  const options = {
    redisUrl: `redis://127.0.0.1:${port}`,
    library: 'dist',
    instances: INSTANCES,
    users: USERS,
    concurrent: CONCURRENT,
    lifetimes: LIFETIMES,
    prefix: `bench-${name}:`,
    ...(stalls && { stalls }),
  };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/server/redis-fleet.ts', 'run', JSON.stringify(options)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      // The machine's own load, hogs included: what "quiet" and "loaded" meant on this run.
      if (code === 0) resolve({ ...JSON.parse(output), loadAverage: loadavg()[0] });
      else reject(new Error(`the ${name} fleet exited with ${code}`));
    });
  });
}

/** A busy loop on every core, each its own process, stopped by its PID when `work` is done. */
async function withHogs(work) {
  const hogs = Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ['-e', `const end = Date.now() + ${HOG_LIFETIME_MS}; while (Date.now() < end) {}`], {
      stdio: 'ignore',
    }),
  );
  const stop = () => {
    for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) process.kill(hog.pid, 'SIGTERM');
  };
  process.once('exit', stop);
  try {
    return await work();
  } finally {
    stop();
    process.off('exit', stop);
  }
}

const fleets = {};
try {
  fleets.memory = await memoryFleet();
  fleets.quiet = await redisFleet('quiet');
  fleets.loaded = await withHogs(() => redisFleet('loaded'));
  fleets.stalling = await withHogs(() => redisFleet('stalling', STALLS));
} catch (error) {
  await stopRedis();
  throw error;
}

// --- 2. cache-hit throughput, one instance -------------------------------------------------------------------------------

async function hits(shared) {
  const handler = createTokenHandler({
    authorize: (request) => request.headers.get('x-user'),
    issue: async (user) => ({ token: `tok.${user}`, expiresIn: TTL }),
    // The limit stays on, as in production, but high enough never to refuse here.
    rateLimit: { max: 1_000_000 },
    logger: { warn: () => {} },
    ...(shared ? { store: redisStore({ client: await connect(), prefix: 'bench-hit:' }) } : {}),
  });
  const users = Array.from({ length: 1000 }, (_, index) => `h${index}`);
  await Promise.all(users.map((user) => ask(handler, user)));
  let done = 0;
  let failed = 0;
  const end = performance.now() + DURATION_MS;
  while (performance.now() < end) {
    const batch = [];
    for (let i = 0; i < 100; i++)
      batch.push(ask(handler, users[(done + i) % users.length]).then((response) => response.status));
    failed += (await Promise.all(batch)).filter((status) => status !== 200).length;
    done += batch.length;
  }
  return { rps: done / (DURATION_MS / 1000), failed };
}

const memoryHits = await hits(false);
const redisHits = await hits(true);
await stopRedis();

// --- report -------------------------------------------------------------------------------------------------------------

const rate = (rps) => `${Math.round(rps).toLocaleString('en')} req/s`;
const calls = ({
  vendorCallsPerUserPerLifetime,
  splitMoments,
  latencyP99Ms,
  commandsGivenUp,
  usersCalledAgain,
  callsWithoutClaim,
  callsByWaiters,
  loadAverage,
}) =>
  vendorCallsPerUserPerLifetime.toFixed(3) +
  (splitMoments === undefined
    ? ''
    : ` (moments a user got two tokens ${splitMoments}, Redis commands given up ${commandsGivenUp},` +
      ` user-lifetimes with a second vendor call ${usersCalledAgain}, calls by an instance without the claim ${callsWithoutClaim} (by waiters ${callsByWaiters}),` +
      ` p99 ${latencyP99Ms.toLocaleString('en')} ms, load average ${loadAverage.toFixed(1)})`);
const hogs = `${availableParallelism()} CPU hogs`;
const rows = [
  [`vendor calls per user per lifetime, ${INSTANCES} instances, memory only`, calls(fleets.memory)],
  [`  sharing Redis, quiet machine`, calls(fleets.quiet)],
  [`  sharing Redis, ${hogs}`, calls(fleets.loaded)],
  [`  sharing Redis, ${hogs}, 300 ms event loop stalls`, calls(fleets.stalling)],
  ['cache hit, in-process, memory', rate(memoryHits.rps)],
  ['cache hit, in-process, Redis store (shared rate limit)', rate(redisHits.rps)],
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(
  `secure-widget/server on several instances (node ${process.version}, redis-server on :${port}` +
    `${redisAhead ? `, nice ${REDIS_NICE}` : ''}, ${USERS} users × ${CONCURRENT} requests at once, ${LIFETIMES} lifetimes, ${DURATION_MS} ms hit runs)`,
);
for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
console.log(`reproduce: ${COMMAND}`);

const misses = [];
for (const [name, fleet] of Object.entries({ quiet: fleets.quiet, loaded: fleets.loaded, stalling: fleets.stalling })) {
  if (fleet.vendorCallsPerUserPerLifetime > BUDGET.redisCallsPerUserPerLifetime) {
    misses.push(
      `Redis, ${name}: ${fleet.vendorCallsPerUserPerLifetime.toFixed(3)} vendor calls per user per lifetime > ${BUDGET.redisCallsPerUserPerLifetime}`,
    );
  }
}
const failed =
  Object.values(fleets).reduce((total, fleet) => total + fleet.failed, 0) + memoryHits.failed + redisHits.failed;
if (failed > 0) misses.push(`${failed} requests failed`);
if (misses.length > 0) {
  console.error(`budget missed: ${misses.join('; ')}`);
  process.exit(1);
}
