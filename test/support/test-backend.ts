import { readFile } from 'node:fs/promises';
import { generateKeyPair, SignJWT } from 'jose';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { toNodeListener } from '../../src/server/index.js';
import { createDemoBackend } from '../../demo/backend.js';
import { renderServerToken } from '../../demo/server-rendered-token.js';

/**
 * What a scoped test endpoint answers. Every token is a real one from the reference vendor; `offsetMs` moves the
 * endpoint's clock (its tokens' iat/exp and its Date header), so that a page running on a fake clock can keep the
 * server in step, or a test can put the two clocks hours apart.
 */
export interface ScopeConfig {
  respond?:
    | 'ok'
    | 'token'
    | 'data-envelope'
    | 'text'
    | 'opaque'
    | 'opaque-bare'
    | 'status'
    | 'network'
    | 'hang'
    | 'missing'
    | 'html'
    | 'bad-json'
    | 'malformed'
    | 'oversize'
    | 'expired'
    | 'foreign'
    | 'redirect';
  /** respond 'redirect': a 302 to this endpoint again on the page's own origin, or on the vendor's (127.0.0.1). */
  redirect?: 'same-origin' | 'other-origin';
  ttlSeconds?: number;
  offsetMs?: number;
  status?: number;
  retryAfter?: string;
  /** Answer after this many ms (real time). */
  delayMs?: number;
  /** Leave the Date header out, as a cross-origin endpoint that does not expose it would appear. */
  noDate?: boolean;
  /** Answers one request as configured, then as `next` from the following one on (no race with a test's configure). */
  next?: ScopeConfig;
}

interface Scope {
  config: ScopeConfig;
  calls: number;
  /** What probe pages (test frames on other origins) saw, in order. */
  reports: unknown[];
}

const ROUTE = /^\/test-api\/([\w-]{1,64})\/(token|config|stats|report|reports)$/;

/**
 * The browser tests' server side, mounted on web-test-runner as middleware: the demo backend (reference vendor and
 * host token endpoint, unchanged) plus scoped token endpoints that each test configures to answer well or badly.
 */
export async function createTestBackend() {
  const demo = await createDemoBackend({ ttlSeconds: 60 });
  const scopes = new Map<string, Scope>();
  const foreignKey = generateKeyPair('ES256');
  const demoListener = toNodeListener(demo.handle);

  const scope = (name: string) => {
    let found = scopes.get(name);
    if (!found) scopes.set(name, (found = { config: {}, calls: 0, reports: [] }));
    return found;
  };

  async function answerToken(req: IncomingMessage, res: ServerResponse, current: Scope): Promise<void> {
    current.calls += 1;
    const config = current.config;
    if (config.next) current.config = config.next;
    if (config.delayMs) await new Promise((resolve) => setTimeout(resolve, config.delayMs));
    const now = Date.now() + (config.offsetMs ?? 0);
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    const url = new URL(req.url ?? '/', 'http://test.invalid');
    const redirected = url.searchParams.has('redirected');
    // The far end of a redirect to the vendor's origin answers the page's CORS request, so only the element's own
    // rule can refuse what it serves.
    if (redirected && req.headers.origin) headers['Access-Control-Allow-Origin'] = req.headers.origin;
    if (config.respond === 'redirect' && !redirected) {
      const port = req.socket.localPort;
      const host = config.redirect === 'other-origin' ? `http://127.0.0.1:${port}` : '';
      res.writeHead(302, { ...headers, Location: `${host}${url.pathname}?redirected=1` }).end();
      return;
    }
    if (!config.noDate) headers.Date = new Date(now).toUTCString();
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { ...headers, 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const mint = (ttlSeconds = config.ttlSeconds ?? 60, at = now) => demo.vendor.issueToken({ ttlSeconds, now: at });

    switch (config.respond ?? 'ok') {
      case 'redirect':
      case 'ok': {
        const embedToken = await mint();
        return json(200, { embedToken, expiresAt: Math.floor(now / 1000) + (config.ttlSeconds ?? 60) });
      }
      case 'token':
        return json(200, { token: await mint() });
      case 'data-envelope':
        return json(200, { data: { embedToken: await mint() } });
      case 'text':
        res.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' }).end(`${await mint()}\n`);
        return;
      case 'opaque':
        return json(200, {
          token: `opaque-${current.calls}-${Math.random().toString(36).slice(2)}`,
          expiresIn: config.ttlSeconds ?? 60,
        });
      case 'opaque-bare':
        return json(200, { token: `opaque-${current.calls}-${Math.random().toString(36).slice(2)}` });
      case 'status':
        if (config.retryAfter) headers['Retry-After'] = config.retryAfter;
        return json(config.status ?? 500, { error: { code: 'test', message: 'configured failure' } });
      case 'network':
        req.socket.destroy();
        return;
      case 'hang':
        // Never answers; the element's timeout (or the page going away) ends it.
        return;
      case 'missing':
        return json(200, { ok: true });
      case 'html':
        res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html><title>Sign in</title>');
        return;
      case 'bad-json':
        res.writeHead(200, { ...headers, 'Content-Type': 'application/json' }).end('{"embedToken": ');
        return;
      case 'malformed':
        return json(200, { embedToken: 'eyJhbGciOiJFUzI1NiJ9.not-json.sig' });
      case 'oversize':
        return json(200, { embedToken: 'a'.repeat(40_000) });
      case 'expired':
        return json(200, { embedToken: await mint(60, now - 120_000) });
      case 'foreign': {
        // Well-formed and unexpired, but not signed by the vendor: only the vendor can tell, and must reject it.
        const seconds = Math.floor(now / 1000);
        const embedToken = await new SignJWT({ sub: 'demo-host' })
          .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
          .setIssuer(demo.vendor.issuer)
          .setAudience(demo.vendor.audience)
          .setIssuedAt(seconds)
          .setExpirationTime(seconds + (config.ttlSeconds ?? 60))
          .setJti(crypto.randomUUID())
          .sign((await foreignKey).privateKey);
        return json(200, { embedToken });
      }
    }
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    let body = '';
    for await (const chunk of req) body += chunk;
    return JSON.parse(body || '{}');
  }

  /** The demo page as Vite serves it: index.html with a server-rendered token from this same backend. */
  async function answerDemoPage(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const html = await readFile(new URL('../../index.html', import.meta.url), 'utf8');
    const port = req.socket.localPort;
    const page = await renderServerToken(html, demo, `http://localhost:${port}`);
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(page);
  }

  /**
   * A host page under a strict CSP: scripts only with its nonce, and Trusted Types required for every script URL. The
   * built library must load the vendor script there with no change to the page but the policy names.
   */
  function answerStrictPage(req: IncomingMessage, res: ServerResponse): void {
    const port = req.socket.localPort;
    // `?policies='none'` leaves the element's own policy out of the list: a CSP the host forgot to extend.
    const policies = new URL(req.url ?? '/', 'http://test.invalid').searchParams.get('policies') ?? 'secure-widget';
    const nonce = 'n0nce-for-test';
    const html = `<!doctype html><html><head><meta charset="utf-8">
<script nonce="${nonce}">window.violations = []; document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));</script>
<script type="module" nonce="${nonce}" src="/dist/secure-widget.js"></script>
</head><body>
<secure-widget token-endpoint="/api/widget-token" bundle-url="http://127.0.0.1:${port}/vendor/widget.js">
  <template><demo-widget community-id="9" data-user-id="csp"></demo-widget></template>
</secure-widget>
</body></html>`;
    res
      .writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        'Content-Security-Policy': [
          `script-src 'nonce-${nonce}'`,
          "require-trusted-types-for 'script'",
          `trusted-types ${policies}`,
          "object-src 'none'",
          "base-uri 'none'",
        ].join('; '),
      })
      .end(html);
  }

  /** Every URL the browser asked this server for, so that a test can check that no token ever travelled in one. */
  const requested: string[] = [];
  /** Called with each URL as its request arrives, until they return true. */
  let watchers: ((url: string) => boolean)[] = [];
  const nextTokenRequest = () =>
    new Promise<void>((resolve) =>
      watchers.push((url) => {
        if (!EXAMPLE_TOKEN_ENDPOINTS.includes(url)) return false;
        resolve();
        return true;
      }),
    );

  return (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void => {
    requested.push(req.url ?? '');
    watchers = watchers.filter((watcher) => !watcher(req.url ?? ''));
    if (req.method === 'GET' && req.url === '/test-api/fuzz-settings') {
      // FUZZ_RUNS and FUZZ_SEED reach the browser's property-based tests from the shell that runs them.
      const runs = Number(process.env.FUZZ_RUNS) || 1000;
      const seed = Number(process.env.FUZZ_SEED) || 20261202;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ runs, seed }));
      return;
    }
    if (req.method === 'GET' && req.url === '/test-api/requested-urls-with-jwt') {
      // Only whether such URLs exist, and how many: a JWT in a URL is the failure, and it is not repeated here.
      const decoded = (url: string) => {
        try {
          return decodeURIComponent(url);
        } catch {
          return url;
        }
      };
      const count = requested.filter((url) => /eyJ[\w-]+\.[\w-]+/.test(decoded(url))).length;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ count }));
      return;
    }
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/test-pages/frame-probe.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(FRAME_PROBE);
      return;
    }
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/test-pages/dev-key.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(DEV_KEY_PAGE);
      return;
    }
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/test-pages/strict-csp.html') {
      answerStrictPage(req, res);
      return;
    }
    // The examples of demo/examples/ (test/examples.test.ts): their pages and scripts, and the WordPress plugin's
    // admin-ajax route, answered here by the host endpoint in place of the plugin's PHP.
    const example = req.method === 'GET' ? exampleFile((req.url ?? '').split('?')[0]!) : null;
    if (example) {
      answerExample(req, res, example, nextTokenRequest);
      return;
    }
    if (req.method === 'GET' && req.url === EXAMPLE_WORDPRESS_ENDPOINT) {
      req.url = '/api/widget-token';
      demoListener(req, res, next);
      return;
    }
    if (req.method === 'GET' && (req.url ?? '').split('?')[0] === '/index.html') {
      answerDemoPage(req, res).catch((error) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
      return;
    }
    const match = ROUTE.exec((req.url ?? '').split('?')[0]!);
    if (!match) {
      demoListener(req, res, next);
      return;
    }
    const [, name, action] = match as unknown as [string, string, string];
    const current = scope(name);
    const done = (error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    };
    if (action === 'token') {
      answerToken(req, res, current).catch(done);
    } else if (action === 'config') {
      readJson(req)
        .then((config) => {
          current.config = config as ScopeConfig;
          res.writeHead(204).end();
        })
        .catch(done);
    } else if (action === 'report') {
      readJson(req)
        .then((report) => {
          current.reports.push(report);
          res.writeHead(204).end();
        })
        .catch(done);
    } else if (action === 'reports') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(current.reports));
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ calls: current.calls }));
    }
  };
}

/**
 * A page that plays a frame in the iframe tests, honest or hostile, on whatever origin it is loaded from, and reports
 * what it sees to its test scope (never a token: only whether one came, and its length). Query: scope, host (the host
 * page's origin), mode, and for mode=navigate the URL to go to. Each report says which document made it (`doc`) and
 * its place among that document's reports (`seq`), so a marker the test posts (`{'probe:marker': id}`, reported as
 * `{marker: id}`) tells it, once the reports before it are in, that it has every report of what the probe received
 * before the marker.
 */
const FRAME_PROBE = `<!doctype html><html><head><meta charset="utf-8"><title>probe</title></head>
<body style="margin:0"><div id="content" style="height:120px">probe</div><script>
const query = new URLSearchParams(location.search);
const scope = query.get('scope');
const host = query.get('host');
const mode = query.get('mode');
// Sent at once (a report queued behind another would be lost when the frame navigates), numbered in order.
const doc = Math.random().toString(36).slice(2, 12);
let seq = 0;
const report = (what) =>
  fetch('/test-api/' + scope + '/report', {
    method: 'POST',
    body: JSON.stringify({ origin: location.origin, mode, doc, seq: seq++, ...what }),
  });
const hello = { type: 'secure-widget:hello', version: 1, instance: 'probe' + Math.random().toString(36).slice(2, 12) };
let port = null;
window.addEventListener('message', (event) => {
  if (event.source === parent && event.data && event.data['probe:marker'] !== undefined) {
    report({ marker: event.data['probe:marker'] });
    return;
  }
  // A ping goes back over the port: once the host hears the pong, it has heard all the probe said there before.
  if (event.source === parent && event.data && event.data['probe:ping'] !== undefined) {
    if (port) port.postMessage({ 'probe:pong': event.data['probe:ping'] });
    return;
  }
  const isConnect = event.data && event.data.type === 'secure-widget:connect';
  report({ window: isConnect ? 'connect' : 'message', from: event.origin, ports: event.ports.length, leaked: JSON.stringify(event.data ?? null).includes('eyJ') });
  if (!isConnect || !event.ports[0]) return;
  port = event.ports[0];
  port.onmessage = (message) => {
    const data = message.data || {};
    report({ port: data.type, tokenLength: typeof data.token === 'string' ? data.token.length : undefined });
    // The height before ready, as the reference vendor does: the host has it by the time it hears ready.
    if (data.type === 'token' && mode === 'sized') port.postMessage({ type: 'resize', height: 420 });
    if (data.type === 'token' && mode !== 'no-ready') port.postMessage({ type: 'ready' });
    if (data.type === 'reload') port.postMessage({ type: 'ready' });
    if (data.type === 'token' && mode === 'malformed') {
      for (const bad of [null, 'ready', 42, [], { type: 'resize', height: -5 }, { type: 'resize', height: 'x' },
        { type: 'resize', height: 1e9, extra: 1 }, { type: 'expired', code: '<script>' }, { type: 'nope' },
        { type: 'ready', extra: true }, { type: 'token', token: 'x' }, { type: 'resize', height: Infinity }]) {
        port.postMessage(bad);
      }
      port.postMessage({ type: 'resize', height: 'a'.repeat(100000) });
      port.postMessage({ type: 'resize', height: 333 });
    }
    if (data.type === 'token' && mode === 'grow') {
      // Content as tall as the frame plus a little: every height the host sets asks for more (the feedback trap).
      const grow = () => port.postMessage({ type: 'resize', height: window.innerHeight + 40 });
      window.addEventListener('resize', grow);
      grow();
    }
    if (data.type === 'token' && mode === 'expire') setTimeout(() => port.postMessage({ type: 'expired', code: 'token_expired' }), 10);
  };
});
if (mode === 'fuzz') {
  // The test (the host page) hands the probe batches of hostile messages: sent to the host on the window, and over
  // the port once connected. Counted connects go to the scope's reports, like every window message.
  window.addEventListener('message', (event) => {
    const batch = event.source === parent && event.data && event.data['probe:fuzz'];
    if (!batch) return;
    for (const message of batch.window) parent.postMessage(message, host);
    if (port) for (const message of batch.port) port.postMessage(message);
    parent.postMessage({ 'probe:done': batch.id }, host);
  });
}
if (mode === 'navigate') {
  location.replace(query.get('to'));
} else if (mode !== 'silent' && mode !== 'listen') {
  if (mode === 'malformed') {
    for (const bad of [null, 'secure-widget:hello', { type: 'secure-widget:hello' }, { type: 'secure-widget:hello', version: 2 },
      { type: 'secure-widget:hello', version: 1, instance: 'x'.repeat(100000) }, { type: 'secure-widget:hello', version: 1, extra: 1 }]) {
      parent.postMessage(bad, host);
    }
  }
  parent.postMessage(hello, host);
  if (mode === 'replay') setTimeout(() => parent.postMessage(hello, host), 50);
}
report({ loaded: true });
</script></body></html>`;

/**
 * A host page that gives `<secure-widget>` a dev-mode `api-key` (query: scope, key, endpoint?, config), loaded at
 * http://shop.example:PORT (off loopback) or localhost. It reports what happened to its scope: codes and booleans
 * only, never the key.
 */
const DEV_KEY_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>dev key</title></head><body>
<script type="module">
const query = new URLSearchParams(location.search);
const key = query.get('key');
const report = (what) => fetch('/test-api/' + query.get('scope') + '/report', { method: 'POST', body: JSON.stringify(what) });
const warnings = [];
console.warn = (...args) => warnings.push(args.join(' '));
await import('/dist/secure-widget.js');
customElements.define('dev-probe', class extends HTMLElement {});
const widget = document.createElement('secure-widget');
if (query.get('endpoint')) widget.setAttribute('token-endpoint', query.get('endpoint'));
widget.setAttribute('api-key', key);
widget.innerHTML = '<template><dev-probe></dev-probe></template>';
const errors = [];
widget.addEventListener('secure-widget-error', (event) => errors.push({ code: event.detail.code, leaks: event.detail.message.includes(key) }));
// Reported once the widget is ready or has failed, and the start that did it is over (a task later).
const settled = new Promise((resolve) => {
  widget.addEventListener('secure-widget-ready', resolve, { once: true });
  widget.addEventListener('secure-widget-error', resolve, { once: true });
});
document.body.append(widget);
settled.then(() => setTimeout(() => {
  const vendor = widget.querySelector(':scope > dev-probe');
  report({
    host: location.hostname,
    status: widget.getAttribute('status'),
    errors,
    stamped: vendor !== null,
    vendorHasKey: vendor?.getAttribute('api-key') === key,
    vendorHasToken: /^eyJ/.test(vendor?.getAttribute('embed-token') ?? ''),
    hostAttribute: widget.hasAttribute('api-key'),
    warnings: warnings.length,
    warningsLeak: warnings.some((warning) => warning.includes(key)),
  });
}));
</script></body></html>`;

/** The WordPress example's token endpoint (demo/examples/wordpress/block.html): the plugin's admin-ajax action. */
const EXAMPLE_WORDPRESS_ENDPOINT = '/wp-admin/admin-ajax.php?action=secure_widget_token';
/** The token endpoints the examples' pages name. */
const EXAMPLE_TOKEN_ENDPOINTS = [EXAMPLE_WORDPRESS_ENDPOINT, '/api/widget-token'];

interface ExampleFile {
  file: URL;
  type: 'text/html' | 'text/javascript';
  /** What builds the file when it is missing. */
  builtBy?: string;
  /** Wraps the file's text into the page a user sees (a WordPress post around the block). */
  wrap?: (text: string) => string;
}

/**
 * Where each example's URLs come from: its own files in demo/examples/, the library from dist/ (the copy a user makes),
 * the React and Vue apps as `npm run build:test-pages` built them, and the WordPress block inside a post.
 */
function exampleFile(path: string): ExampleFile | null {
  const from = (relative: string) => new URL(`../../${relative}`, import.meta.url);
  const html = 'text/html' as const;
  const script = 'text/javascript' as const;
  const built = (relative: string) => ({
    file: from(`test/frameworks/dist/examples/${relative}`),
    builtBy: 'npm run build:test-pages',
  });
  switch (path) {
    case '/test-pages/examples/plain-html/':
      return { file: from('demo/examples/plain-html/index.html'), type: html };
    case '/test-pages/examples/plain-html/secure-widget.js':
      return { file: from('dist/secure-widget.js'), type: script, builtBy: 'npm run build' };
    case '/test-pages/examples/wordpress/':
      return { file: from('demo/examples/wordpress/block.html'), type: html, wrap: wordpressPost };
    case '/wp-content/plugins/secure-widget/secure-widget.classic.js':
      return { file: from('dist/secure-widget.classic.js'), type: script, builtBy: 'npm run build' };
    case '/test-pages/examples/react/':
    case '/test-pages/examples/vue/':
      return { ...built(`${path.split('/')[3]}/index.html`), type: html };
  }
  const asset = /^\/test-pages\/examples\/assets\/([\w-]+\.js)$/.exec(path);
  return asset ? { ...built(`assets/${asset[1]}`), type: script } : null;
}

/**
 * Serves an example file as it is, but for the reference vendor's port: the examples name the demo's
 * (http://127.0.0.1:5173/vendor/widget.js, `npm start`), the tests' vendor is on this server's port.
 */
function answerExample(
  req: IncomingMessage,
  res: ServerResponse,
  example: ExampleFile,
  nextTokenRequest: () => Promise<void>,
): void {
  readFile(example.file, 'utf8').then(
    (text) => {
      const page = (example.wrap ?? String)(text).replaceAll(
        '//127.0.0.1:5173/',
        `//127.0.0.1:${req.socket.localPort}/`,
      );
      res.writeHead(200, { 'Content-Type': `${example.type}; charset=utf-8`, 'Cache-Control': 'no-store' });
      // ?split=1: the page arrives in two pieces, cut before the vendor element, so that the parser stops there with
      // the element upgraded and its vendor element not there yet, as a slow network or a large page makes it. The
      // rest follows once the element, running on the first piece, has asked for its token: however slow the machine,
      // it has run without its child.
      const cut = new URL(req.url ?? '', 'http://x').searchParams.has('split') ? page.indexOf('<demo-widget') : -1;
      if (cut < 0) {
        res.end(page);
        return;
      }
      const asked = nextTokenRequest();
      res.write(page.slice(0, cut));
      void asked.then(() => res.end(page.slice(cut)));
    },
    () => {
      const hint = example.builtBy ? `: run \`${example.builtBy}\` first` : '';
      res
        .writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' })
        .end(`missing ${example.file.pathname}${hint}\n`);
    },
  );
}

/** A WordPress post with the block in a "Custom HTML" block, as WordPress renders it: the block's HTML as pasted. */
function wordpressPost(block: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A post</title></head><body>
<article><h1>A post</h1><p>A post with a widget in it.</p>
${block}
</article></body></html>`;
}
