#!/usr/bin/env node
// The token handler on several instances, BUILT (dist/server.js, dist/server-redis.js), against a redis-server this
// bench starts on a free port (and stops by its PID):
//   1. vendor calls per user per token lifetime, 4 instances × 500 users, every user asking every instance twice at
//      once in each of 3 lifetimes: each instance with its memory only, then all four sharing Redis;
//   2. requests per second on a cache hit, in-process, one instance: in-memory beside Redis (the rate limit, shared,
//      is the one Redis command a hit costs; the token itself comes from the instance's memory).
// Run `npm run build && node bench/server-redis.mjs`. Exits non-zero when a budget does not hold. No token is printed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { createTokenHandler } from '../dist/server.js';
import { redisStore } from '../dist/server-redis.js';

const COMMAND = 'npm run build && node bench/server-redis.mjs';
const BUDGET = { redisCallsPerUserPerLifetime: 1.05 };
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const INSTANCES = 4;
const USERS = 500;
const LIFETIMES = 3;
const TTL = 900;

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
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
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
  console.error(`redis-server could not start (${error.message}): install it (Debian: apt-get install -y redis-server)`);
  process.exit(1);
}
redis.stdout.resume();
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

const ask = (handler, user) => handler(new Request('http://localhost/api/widget-token', { headers: { 'x-user': user } }));

async function fleet(shared) {
  const clock = { now: Date.now() };
  let calls = 0;
  let failed = 0;
  const handlers = [];
  for (let index = 0; index < INSTANCES; index++) {
    const store = shared ? { store: redisStore({ client: await connect(), prefix: 'bench:' }) } : {};
    handlers.push(
      createTokenHandler({
        authorize: (request) => request.headers.get('x-user'),
        issue: async (user) => {
          calls += 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
          return { token: `tok.${user}.${calls}`, expiresIn: TTL };
        },
        now: () => clock.now,
        logger: { warn: () => {} },
        ...store,
      }),
    );
  }
  const users = Array.from({ length: USERS }, (_, index) => `${shared ? 'r' : 'm'}${index}`);
  for (let lifetime = 0; lifetime < LIFETIMES; lifetime++) {
    // 50 users at a time: the four instances share this process's event loop, unlike four real ones.
    for (let offset = 0; offset < USERS; offset += 50) {
      const batch = users.slice(offset, offset + 50);
      const answers = await Promise.all(batch.flatMap((user) => handlers.flatMap((handler) => [ask(handler, user), ask(handler, user)])));
      failed += answers.filter((response) => response.status !== 200).length;
    }
    clock.now += TTL * 1000;
  }
  return { perLifetime: calls / USERS / LIFETIMES, failed };
}

const memoryFleet = await fleet(false);
const redisFleet = await fleet(true);

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
    for (let i = 0; i < 100; i++) batch.push(ask(handler, users[(done + i) % users.length]).then((response) => response.status));
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
const rows = [
  [`vendor calls per user per lifetime, ${INSTANCES} instances, memory only`, memoryFleet.perLifetime.toFixed(3)],
  [`vendor calls per user per lifetime, ${INSTANCES} instances, sharing Redis`, redisFleet.perLifetime.toFixed(3)],
  ['cache hit, in-process, memory', rate(memoryHits.rps)],
  ['cache hit, in-process, Redis store (shared rate limit)', rate(redisHits.rps)],
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`secure-widget/server on several instances (node ${process.version}, redis-server on :${port}, ${DURATION_MS} ms runs)`);
for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);
console.log(`reproduce: ${COMMAND}`);

const misses = [];
if (redisFleet.perLifetime > BUDGET.redisCallsPerUserPerLifetime) {
  misses.push(`Redis: ${redisFleet.perLifetime.toFixed(3)} vendor calls per user per lifetime > ${BUDGET.redisCallsPerUserPerLifetime}`);
}
const failed = memoryFleet.failed + redisFleet.failed + memoryHits.failed + redisHits.failed;
if (failed > 0) misses.push(`${failed} requests failed`);
if (misses.length > 0) {
  console.error(`budget missed: ${misses.join('; ')}`);
  process.exit(1);
}
