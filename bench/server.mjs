#!/usr/bin/env node
// secure-widget/server's token handler, the BUILT one (dist/server.js):
//   1. requests per second on a cache hit, over HTTP on loopback (keep-alive, 64 connections, 1,000 signed-in users)
//      and called in-process (the handler's own cost, without node:http);
//   2. vendor calls per user per token lifetime over a simulated day: 15-minute tokens, three tabs per user each
//      refreshing as the element does (60 s before expiry), page reloads every few minutes, 100 users;
//   3. vendor calls for 100 concurrent requests of one user with a cold cache.
// Run `npm run build && node bench/server.mjs`. Exits non-zero when a budget does not hold. No token is printed.
import { createServer, Agent, request as httpRequest } from 'node:http';
import { generateKeyPair, SignJWT } from 'jose';
import { createTokenHandler, toNodeListener } from '../dist/server.js';

const BUDGET = { vendorCallsPerUserPerLifetime: 2, concurrentColdCalls: 1 };
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 3000);
const CONNECTIONS = 64;
const USERS = 1000;
const TTL = 900;

const { privateKey } = await generateKeyPair('ES256');
const mint = (nowMs) => {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuedAt(iat).setExpirationTime(iat + TTL).sign(privateKey);
};

// --- 1. throughput on a cache hit ------------------------------------------------------------------------------------

let vendorCalls = 0;
const handler = createTokenHandler({
  authorize: (request) => ({ id: request.headers.get('x-user') ?? 'u0' }),
  issue: async () => {
    vendorCalls += 1;
    return { token: await mint(Date.now()) };
  },
  rateLimit: false,
  logger: { warn: () => {} },
});
const users = Array.from({ length: USERS }, (_, index) => `u${index}`);
// Warm the cache for every user, so that every measured request is a hit.
await Promise.all(users.map((id) => handler(new Request('http://localhost/api/widget-token', { headers: { 'x-user': id } }))));
const warmCalls = vendorCalls;

async function inProcess() {
  let done = 0;
  const end = performance.now() + DURATION_MS;
  while (performance.now() < end) {
    const batch = [];
    for (let i = 0; i < 100; i++) {
      const request = new Request('http://localhost/api/widget-token', { headers: { 'x-user': users[(done + i) % USERS] } });
      batch.push(handler(request).then((response) => response.text()));
    }
    await Promise.all(batch);
    done += batch.length;
  }
  return done / (DURATION_MS / 1000);
}

async function overHttp() {
  const server = createServer(toNodeListener(handler));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let done = 0;
  let failed = 0;
  const end = performance.now() + DURATION_MS;
  const one = (user) =>
    new Promise((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/widget-token', agent, headers: { 'x-user': user } }, (res) => {
        if (res.statusCode !== 200) failed += 1;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', () => {
        failed += 1;
        resolve();
      });
      req.end();
    });
  const client = async (offset) => {
    for (let i = offset; performance.now() < end; i += CONNECTIONS) {
      await one(users[i % USERS]);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, index) => client(index)));
  agent.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  return { rps: done / (DURATION_MS / 1000), failed };
}

const local = await inProcess();
const http = await overHttp();
const hitCalls = vendorCalls - warmCalls;

// --- 2. vendor calls per user per token lifetime, on a simulated clock -------------------------------------------------

async function simulateDay() {
  let clock = Date.UTC(2026, 0, 1);
  let calls = 0;
  const simulated = createTokenHandler({
    authorize: (request) => ({ id: request.headers.get('x-user') }),
    issue: async () => {
      calls += 1;
      return { token: await mint(clock) };
    },
    now: () => clock,
    rateLimit: false,
    logger: { warn: () => {} },
  });
  const SIM_USERS = 100;
  const TABS = 3;
  const DAY = 24 * 3600 * 1000;
  const MARGIN = 60_000;
  // Each tab: when its token is due (60 s before expiry, as the element), or when the user reloads the page.
  const tabs = [];
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let user = 0; user < SIM_USERS; user++) {
    for (let tab = 0; tab < TABS; tab++) tabs.push({ user: `u${user}`, dueAt: clock + random() * 60_000, reloadAt: clock + random() * 600_000 });
  }
  const start = clock;
  while (clock < start + DAY) {
    const next = tabs.reduce((soonest, tab) => Math.min(soonest, tab.dueAt, tab.reloadAt), Infinity);
    clock = next;
    for (const tab of tabs) {
      if (tab.dueAt > clock && tab.reloadAt > clock) continue;
      if (tab.reloadAt <= clock) tab.reloadAt = clock + 120_000 + random() * 600_000;
      const response = await simulated(new Request('http://localhost/api/widget-token', { headers: { 'x-user': tab.user } }));
      const { expiresAt } = await response.json();
      // The element's margin is capped at half the token's whole lifetime, which is far more than 60 s here.
      tab.dueAt = expiresAt * 1000 - MARGIN;
    }
  }
  const lifetimes = DAY / (TTL * 1000);
  return calls / SIM_USERS / lifetimes;
}

const perLifetime = await simulateDay();

// --- 3. a cold cache under a burst of one user -----------------------------------------------------------------------

let coldCalls = 0;
const cold = createTokenHandler({
  authorize: () => ({ id: 'burst' }),
  issue: async () => {
    coldCalls += 1;
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { token: await mint(Date.now()) };
  },
  rateLimit: false,
});
await Promise.all(Array.from({ length: 100 }, () => cold(new Request('http://localhost/api/widget-token'))));

// --- report -------------------------------------------------------------------------------------------------------------

const rows = [
  ['cache hit, in-process', `${Math.round(local).toLocaleString('en')} req/s`],
  [`cache hit, node:http, ${CONNECTIONS} keep-alive connections`, `${Math.round(http.rps).toLocaleString('en')} req/s (${http.failed} failed)`],
  ['vendor calls during the hit runs', String(hitCalls)],
  ['vendor calls per user per 15-min token lifetime (3 tabs, reloads, 24 h)', perLifetime.toFixed(2)],
  ['vendor calls for 100 concurrent requests of one user, cold cache', String(coldCalls)],
];
const width = Math.max(...rows.map(([name]) => name.length));
console.log(`secure-widget/server bench (node ${process.version}, ${DURATION_MS} ms runs)`);
for (const [name, value] of rows) console.log(`  ${name.padEnd(width)}  ${value}`);

const misses = [];
if (hitCalls !== 0) misses.push(`cache hits called the vendor ${hitCalls} times`);
if (http.failed !== 0) misses.push(`${http.failed} requests failed`);
if (perLifetime > BUDGET.vendorCallsPerUserPerLifetime) misses.push(`vendor calls per lifetime ${perLifetime.toFixed(2)} > ${BUDGET.vendorCallsPerUserPerLifetime}`);
if (coldCalls > BUDGET.concurrentColdCalls) misses.push(`a cold burst made ${coldCalls} vendor calls`);
if (misses.length > 0) {
  console.error(`budget missed: ${misses.join('; ')}`);
  process.exit(1);
}
