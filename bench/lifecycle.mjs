#!/usr/bin/env node
// The token lifecycle in a real browser, against the BUILT library (dist/secure-widget.js):
//   1. endpoint requests for 50 widgets on one page, at load and in each of 3 refresh cycles (real time, ~13 s);
//   2. recovery latency: the vendor's expiry event → the vendor element's reload(), with a 300 ms endpoint, against
//      the seed's pattern (refetch on rai-error, then reload) measured in the same browser;
//   3. timers and listeners left after 1,000 connect/disconnect cycles.
// Run `npm run build && node --import tsx bench/lifecycle.mjs`. Exits non-zero when a budget does not hold.
// CHROME_PATH picks the browser (default /usr/bin/chromium); SECURE_WIDGET_DIST another build's folder (default dist/).
// No token is ever printed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { SourceMap } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, SignJWT } from 'jose';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from '../test/support/chromium.mjs';
import { readBuiltFiles } from './built-library.mjs';

const BUDGET = {
  requestsPerCycle: 1,
  oursMedianMs: 20,
  seedMedianAtLeastMs: 300,
  leftTimers: 0,
  leftListeners: 0,
};
const WIDGETS = 50;
const SHARED_ENDPOINT = '/token?ttl=6';
const CYCLES = 3;
const RECOVERY_RUNS = 10;
const ENDPOINT_DELAY = 300;
const CONNECT_CYCLES = 1_000;
const FRESH_WIDGETS = 100;
const DEADLINE = 58_000;

const started = performance.now();
const root = new URL('..', import.meta.url);
const [library, librarySourceMap] = readBuiltFiles('lifecycle', ['secure-widget.js', 'secure-widget.js.map'], 1);
const probe = readFileSync(new URL('bench/lifecycle-probe.js', root), 'utf8');

// ---------------------------------------------------------------------------------------------------------- server

const { privateKey } = await generateKeyPair('ES256');
/** Requests per path + query, counted on arrival (an aborted request reached the endpoint all the same). */
const requests = new Map();
/** When each request to the 50 widgets' endpoint arrived (ms, this process's clock). */
const arrivals = [];
const requestsTo = (path) => requests.get(path) ?? 0;

async function answerToken(url, res) {
  const delay = Number(url.searchParams.get('delay')) || 0;
  const ttl = Number(url.searchParams.get('ttl')) || 60;
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  if (res.destroyed) return;
  // One clock for iat, exp and the Date header (which has whole seconds only).
  const iat = Math.floor(Date.now() / 1000);
  const embedToken = await new SignJWT({ scope: 'bench' })
    .setProtectedHeader({ alg: 'ES256', kid: 'bench' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttl)
    .setSubject('bench-user')
    .sign(privateKey);
  res
    .writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      Date: new Date(iat * 1000).toUTCString(),
    })
    .end(JSON.stringify({ embedToken, expiresAt: iat + ttl }));
}

const htmlResponse = (body) => ({ type: 'text/html; charset=utf-8', body });
const pages = new Map();

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname === '/token') {
    requests.set(req.url, requestsTo(req.url) + 1);
    if (req.url === SHARED_ENDPOINT) arrivals.push(performance.now());
    answerToken(url, res).catch((error) => {
      if (!res.headersSent) res.writeHead(500).end(String(error?.message));
    });
    return;
  }
  const found =
    url.pathname === '/dist/secure-widget.js'
      ? { type: 'text/javascript; charset=utf-8', body: library }
      : url.pathname === '/dist/secure-widget.js.map'
        ? { type: 'application/json', body: librarySourceMap }
        : pages.get(url.pathname);
  if (!found) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'Content-Type': found.type, 'Cache-Control': 'no-store' }).end(found.body);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

// ----------------------------------------------------------------------------------------------------------- pages

// The vendor element: its reload() records when it ran and whether the token on it then was a new one.
const BENCH_WIDGET = `customElements.define('bench-widget', class extends HTMLElement {
  connectedCallback() { if (this.firstToken === undefined) this.firstToken = this.getAttribute('embed-token'); }
  reload() {
    const at = performance.now();
    this.reloads = (this.reloads ?? 0) + 1;
    this.reloadedWithNewToken = this.getAttribute('embed-token') !== this.firstToken;
    this.onreloaded?.(at);
  }
});`;
// Token events and errors per widget, counted from the first moment.
const WATCH_WIDGETS = `window.tokenEvents = new Map(); window.widgetErrors = [];
document.addEventListener('secure-widget-token', (e) => {
  tokenEvents.set(e.target, (tokenEvents.get(e.target) ?? 0) + 1);
});
document.addEventListener('secure-widget-error', (e) => widgetErrors.push(e.detail.code));`;
const LIBRARY_SCRIPT = '<script type="module" src="/dist/secure-widget.js"></script>';
const widget = (endpoint, margin) =>
  `<secure-widget token-endpoint="${endpoint}"${margin ? ` refresh-margin="${margin}"` : ''}>` +
  '<template><bench-widget></bench-widget></template></secure-widget>';
const pageHtml = (head, body) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>bench</title>${head}</head><body>${body}</body></html>`;

pages.set(
  '/requests.html',
  htmlResponse(
    pageHtml(
      `<script>${BENCH_WIDGET}\n${WATCH_WIDGETS}</script>${LIBRARY_SCRIPT}`,
      Array.from({ length: WIDGETS }, () => widget(SHARED_ENDPOINT, 2)).join('\n'),
    ),
  ),
);
pages.set(
  '/recovery.html',
  htmlResponse(
    pageHtml(
      `<script>${BENCH_WIDGET}\n${WATCH_WIDGETS}</script>${LIBRARY_SCRIPT}`,
      // One endpoint per widget: no two widgets share a broker, each run is a fresh widget on its own.
      Array.from({ length: RECOVERY_RUNS }, (_, run) =>
        widget(`/token?delay=${ENDPOINT_DELAY}&amp;ttl=4&amp;run=${run}`, 2),
      ).join('\n'),
    ),
  ),
);
// The seed's pattern (reference 004, Returning.AI): no library; on rai-error, fetch a token, set it, reload.
pages.set(
  '/seed.html',
  htmlResponse(
    pageHtml(
      `<script>${BENCH_WIDGET}</script>`,
      `${Array.from({ length: RECOVERY_RUNS }, () => '<bench-widget></bench-widget>').join('\n')}
<script>
document.querySelectorAll('bench-widget').forEach((el) => {
  el.addEventListener('rai-error', async () => {
    const res = await fetch('/token?delay=${ENDPOINT_DELAY}');
    const { embedToken } = await res.json();
    el.setAttribute('embed-token', embedToken);
    await el.reload();
  });
});
</script>`,
    ),
  ),
);
pages.set(
  '/leaks.html',
  htmlResponse(pageHtml(`<script>${probe}</script><script>${BENCH_WIDGET}</script>${LIBRARY_SCRIPT}`, '')),
);

// ---------------------------------------------------------------------------------------------------------- browser

const userDataDir = mkdtempSync(join(tmpdir(), 'secure-widget-bench-'));
const browser = await puppeteer.launch({
  executablePath: chromiumPath,
  headless: true,
  userDataDir,
  args: chromiumArgs,
});
const watchdog = setTimeout(() => {
  console.error(`lifecycle benchmark: not done after ${DEADLINE / 1000} s, giving up`);
  browser.process()?.kill('SIGKILL');
  rmSync(userDataDir, { recursive: true, force: true });
  process.exit(2);
}, DEADLINE);
watchdog.unref();

const pageErrors = [];
async function open(path) {
  const page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${path}: ${error.message.split('\n')[0]}`));
  await page.goto(`${origin}${path}`, { waitUntil: 'load' });
  return page;
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
/** Resolves when each of the `widgets` widgets of the page has had at least `count` token events. */
const tokensReached = (page, widgets, count, timeout) =>
  page.waitForFunction(
    (n, expected) => {
      const hosts = document.querySelectorAll('secure-widget');
      return hosts.length === n && [...hosts].every((w) => (tokenEvents.get(w) ?? 0) >= expected);
    },
    { polling: 20, timeout },
    widgets,
    count,
  );

// ----------------------------------------------------------------------------- 1. requests for 50 widgets per cycle

async function measureRequests() {
  const endpoint = SHARED_ENDPOINT;
  const page = await open('/requests.html');
  await page.waitForFunction(
    (n) => {
      const widgets = [...document.querySelectorAll('secure-widget')];
      return widgets.length === n && widgets.every((w) => w.getAttribute('status') === 'ready');
    },
    { polling: 20, timeout: 5_000 },
    WIDGETS,
  );
  // A cycle is over once every widget has its next token; the next one is due ~4 s later (6 s life, 2 s margin).
  const SETTLE = 300;
  await sleep(SETTLE);
  const perCycle = [requestsTo(endpoint)];
  for (let cycle = 1; cycle <= CYCLES; cycle += 1) {
    await tokensReached(page, WIDGETS, cycle + 1, 8_000);
    await sleep(SETTLE);
    perCycle.push(requestsTo(endpoint) - perCycle.reduce((a, b) => a + b, 0));
  }
  const errors = await page.evaluate(() => widgetErrors);
  await page.close();
  const intervals = arrivals.slice(1).map((at, i) => at - arrivals[i]);
  return { load: perCycle[0], cycles: perCycle.slice(1), errors, intervals };
}

// ------------------------------------------------------------------------------------------ 2. recovery latency

async function measureOurs() {
  const page = await open('/recovery.html');
  // The second token event is the token fetched ahead of expiry: it is in hand before the vendor complains.
  await tokensReached(page, RECOVERY_RUNS, 2, 8_000);
  const runs = await page.evaluate(async () => {
    const results = [];
    for (const host of document.querySelectorAll('secure-widget')) {
      const vendor = host.querySelector('bench-widget');
      const reloaded = new Promise((resolve) => (vendor.onreloaded = resolve));
      const timedOut = new Promise((resolve) => setTimeout(() => resolve(null), 2_000));
      const start = performance.now();
      vendor.dispatchEvent(new CustomEvent('rai-error', { bubbles: true, composed: true }));
      const at = await Promise.race([reloaded, timedOut]);
      results.push({ ms: at === null ? null : at - start, newToken: vendor.reloadedWithNewToken === true });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return results;
  });
  // Each endpoint saw the first token and the one fetched ahead: none at recovery.
  const extra = runs.reduce(
    (sum, _, run) => sum + requestsTo(`/token?delay=${ENDPOINT_DELAY}&ttl=4&run=${run}`) - 2,
    0,
  );
  const errors = await page.evaluate(() => widgetErrors);
  await page.close();
  return { runs, extra, errors };
}

async function measureSeed() {
  const page = await open('/seed.html');
  const runs = await page.evaluate(async () => {
    const results = [];
    for (const vendor of document.querySelectorAll('bench-widget')) {
      const reloaded = new Promise((resolve) => (vendor.onreloaded = resolve));
      const timedOut = new Promise((resolve) => setTimeout(() => resolve(null), 5_000));
      const start = performance.now();
      vendor.dispatchEvent(new CustomEvent('rai-error', { bubbles: true, composed: true }));
      const at = await Promise.race([reloaded, timedOut]);
      results.push({ ms: at === null ? null : at - start, newToken: vendor.reloadedWithNewToken === true });
    }
    return results;
  });
  await page.close();
  return { runs };
}

// -------------------------------------------------------------------------------------------------------- 3. leaks

async function measureLeaks() {
  const endpoint = '/token?ttl=60&run=leak';
  const page = await open('/leaks.html');
  const cdp = await page.createCDPSession();
  const collectGarbage = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.collectGarbage');
  };
  await page.evaluate(() => customElements.whenDefined('secure-widget'));
  await collectGarbage();
  const baseline = await page.evaluate(() => window.__lifecycleProbe.snapshot());

  const cyclesStarted = performance.now();
  const outcome = await page.evaluate(
    async (cycles, freshWidgets, tokenEndpoint) => {
      // A macrotask that setTimeout's nesting clamp (4 ms after 5 levels) does not slow down.
      const macrotask = () =>
        new Promise((resolve) => {
          const channel = new MessageChannel();
          channel.port1.onmessage = () => {
            channel.port1.close();
            resolve();
          };
          channel.port2.postMessage(null);
        });
      const errors = [];
      const run = new AbortController();
      document.addEventListener('secure-widget-error', (e) => errors.push(e.detail.code), { signal: run.signal });
      const ready = (element) =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no secure-widget-ready within 5 s')), 5_000);
          element.addEventListener(
            'secure-widget-ready',
            () => {
              clearTimeout(timer);
              resolve();
            },
            { once: true },
          );
        });

      const element = document.createElement('secure-widget');
      element.setAttribute('token-endpoint', tokenEndpoint);
      element.innerHTML = '<template><bench-widget></bench-widget></template>';
      let shown = ready(element);
      document.body.append(element);
      await shown;
      let readies = 1;
      for (let cycle = 0; cycle < cycles; cycle += 1) {
        element.remove();
        await macrotask();
        // Every other cycle the widget gets its token and renders before it goes; the others leave with the request
        // still in flight.
        shown = cycle % 2 ? ready(element) : null;
        document.body.append(element);
        if (shown) {
          await shown;
          readies += 1;
        } else {
          await macrotask();
        }
      }
      element.remove();
      // Then widgets that come and go once each: after a garbage collection, none may be left (a page-wide registry
      // that kept a closure over one would keep it alive).
      window.__goneWidgets = [];
      for (let cycle = 0; cycle < freshWidgets; cycle += 1) {
        const fresh = document.createElement('secure-widget');
        fresh.setAttribute('token-endpoint', tokenEndpoint);
        fresh.innerHTML = '<template><bench-widget></bench-widget></template>';
        shown = cycle % 2 ? ready(fresh) : null;
        document.body.append(fresh);
        if (shown) {
          await shown;
          readies += 1;
        } else {
          await macrotask();
        }
        fresh.remove();
        await macrotask();
        window.__goneWidgets.push(new WeakRef(fresh));
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      run.abort();
      // Each connection stamps the template anew: the removed widget must hold its template and nothing else.
      return { readies, errors, stamped: element.querySelectorAll('bench-widget').length };
    },
    CONNECT_CYCLES,
    FRESH_WIDGETS,
    endpoint,
  );
  const cyclesMs = performance.now() - cyclesStarted;
  await collectGarbage();
  const after = await page.evaluate(() => window.__lifecycleProbe.snapshot());
  const retained = await page.evaluate(() => window.__goneWidgets.filter((ref) => ref.deref() !== undefined).length);
  await page.close();
  return { baseline, after, cyclesMs, outcome, retained, requests: requestsTo(endpoint) };
}

// ------------------------------------------------------------------------------------------------------ reporting

const sourceMap = new SourceMap(JSON.parse(librarySourceMap.toString('utf8')));
/** A frame of the built library, mapped back to src/ through the source map; other frames as they are. */
function sourceFrame(line) {
  const match = /^at (?:(.*?) \()?(.*\/dist\/secure-widget\.js):(\d+):(\d+)\)?$/.exec(line);
  if (!match) return line.replace(origin, '');
  const entry = sourceMap.findEntry(Number(match[3]) - 1, Number(match[4]) - 1);
  if (!entry?.originalSource) return `dist/secure-widget.js:${match[3]}:${match[4]}`;
  const file = entry.originalSource.replace(/^.*?(?=(src|node_modules)\/)/, '');
  return `${file}:${entry.originalLine + 1}`;
}
/** Groups leaked timers or listeners by where they were registered: "3 × setTimeout (29998–30000 ms) at src/…". */
function describeLeaks(items, label) {
  const groups = new Map();
  for (const item of items) {
    const frames = item.stack.map(sourceFrame);
    const ours = frames.filter((frame) => frame.startsWith('src/'));
    const where = (ours.length ? ours : frames).slice(0, 3).join(' ← ');
    const key = `${label(item)} at ${where}`;
    const group = groups.get(key) ?? { n: 0, delays: [] };
    group.n += 1;
    if (item.delay !== undefined) group.delays.push(item.delay);
    groups.set(key, group);
  }
  return [...groups].map(([key, { n, delays }]) => {
    const range = delays.length ? ` (${Math.min(...delays)}–${Math.max(...delays)} ms)` : '';
    return `    ${n} × ${key.replace(' at ', `${range} at `)}`;
  });
}
const ms = (value) => (value === null ? 'timeout' : value < 10 ? value.toFixed(1) : value.toFixed(0));
const verdict = (ok) => (ok ? 'ok' : 'OVER BUDGET');

let allOk = true;
try {
  const version = (await browser.version()).replace(/^\D+\//, '');
  console.log(`secure-widget lifecycle benchmark (Chromium ${version}, ${new Date().toISOString().slice(0, 10)})`);

  const req = await measureRequests();
  const reqOk = req.load <= BUDGET.requestsPerCycle && req.cycles.every((n) => n >= 1 && n <= BUDGET.requestsPerCycle);
  allOk &&= reqOk;
  const cycles = req.cycles.map((n, i) => `cycle ${i + 1}: ${n}`).join(', ');
  console.log(
    `requests for ${WIDGETS} widgets: load ${req.load}, ${cycles}`.padEnd(76) +
      `budget ${BUDGET.requestsPerCycle}/cycle   ${verdict(reqOk)}`,
  );
  console.log(
    `  requests ${req.intervals.map((interval) => `${(interval / 1000).toFixed(2)} s`).join(', ')} apart ` +
      '(token life 6 s, refresh-margin 2 s: 4 s expected)',
  );
  if (req.errors.length) console.log(`  widget errors: ${req.errors.join(', ')}`);

  const ours = await measureOurs();
  const seed = await measureSeed();
  const oursMs = ours.runs.map((run) => run.ms);
  const seedMs = seed.runs.map((run) => run.ms);
  const oursDone = oursMs.every((value) => value !== null);
  const seedDone = seedMs.every((value) => value !== null);
  const oursMedian = oursDone ? median(oursMs) : null;
  const seedMedian = seedDone ? median(seedMs) : null;
  const recoveryOk =
    oursDone &&
    seedDone &&
    oursMedian <= BUDGET.oursMedianMs &&
    seedMedian >= BUDGET.seedMedianAtLeastMs &&
    ours.runs.every((run) => run.newToken) &&
    ours.extra === 0;
  allOk &&= recoveryOk;
  console.log(
    `recovery after expiry (endpoint ${ENDPOINT_DELAY} ms): ours median ${ms(oursMedian)} ms ` +
      `(max ${ms(oursDone ? Math.max(...oursMs) : null)}), seed pattern median ${ms(seedMedian)} ms ` +
      `(max ${ms(seedDone ? Math.max(...seedMs) : null)})   ${verdict(recoveryOk)}`,
  );
  console.log(
    `  ${RECOVERY_RUNS} runs each; ours: ${ours.runs.filter((run) => run.newToken).length}/${RECOVERY_RUNS} reloaded ` +
      `with the prefetched token, ${ours.extra} requests at recovery; ` +
      `budget median ≤ ${BUDGET.oursMedianMs} ms, seed ≥ ${BUDGET.seedMedianAtLeastMs} ms`,
  );
  if (ours.errors.length) console.log(`  widget errors: ${ours.errors.join(', ')}`);

  const leaks = await measureLeaks();
  const libraryTimers = (snapshot) => snapshot.timers.filter((timer) => timer.library);
  const libraryListeners = (snapshot) => snapshot.listeners.filter((listener) => listener.library);
  const leftTimers = libraryTimers(leaks.after).length - libraryTimers(leaks.baseline).length;
  const leftListeners = libraryListeners(leaks.after).length - libraryListeners(leaks.baseline).length;
  const leaksOk =
    leftTimers <= BUDGET.leftTimers &&
    leftListeners <= BUDGET.leftListeners &&
    leaks.retained === 0 &&
    leaks.outcome.stamped === 0 &&
    leaks.outcome.errors.length === 0;
  allOk &&= leaksOk;
  const left = `${leftTimers} timers, ${leftListeners} listeners`;
  const leftLine = `left after ${CONNECT_CYCLES} connect/disconnect cycles: ${left}`;
  console.log(`${leftLine.padEnd(76)}budget 0         ${verdict(leaksOk)}`);
  console.log(
    `  ${CONNECT_CYCLES} cycles of one widget + ${FRESH_WIDGETS} widgets added and removed once ` +
      `(${(leaks.cyclesMs / 1000).toFixed(1)} s): ${leaks.outcome.readies} renders, ${leaks.requests} token requests ` +
      '(60 s tokens)',
  );
  console.log(
    `  stamped vendor elements left in the removed widget: ${leaks.outcome.stamped}; ` +
      `removed widgets alive after GC: ${leaks.retained}/${FRESH_WIDGETS}` +
      (leaks.outcome.errors.length ? `; errors: ${[...new Set(leaks.outcome.errors)].join(', ')}` : ''),
  );
  if (leftTimers > 0) {
    console.log('  timers still pending, by where the library set them:');
    console.log(describeLeaks(libraryTimers(leaks.after), (t) => t.kind).join('\n'));
  }
  if (leftListeners > 0) {
    console.log('  listeners still registered, by where the library added them:');
    const label = (l) => `"${l.type}" on ${l.on}${l.once ? ' (once)' : ''}${l.signal ? ' (with a signal)' : ''}`;
    console.log(describeLeaks(libraryListeners(leaks.after), label).join('\n'));
  }
  if (pageErrors.length) {
    allOk = false;
    console.log(`page errors: ${pageErrors.join('; ')}`);
  }
} catch (error) {
  allOk = false;
  console.error(`lifecycle benchmark failed: ${error?.stack ?? error}`);
} finally {
  await browser.close().catch(() => {});
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
console.log(`wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = allOk ? 0 : 1;
