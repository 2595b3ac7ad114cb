/**
 * The package as a user gets it: `npm pack`, the tarball installed into an empty folder with the peers a user would
 * add, and then every entry used from there, never from src/: Node imports the server entries, TypeScript and vue-tsc
 * compile a consumer that uses the event map, the React and Vue types and the server types, and Chromium runs a Vite
 * build of the all-in module, the Lit-external element, the classic script and the frame helper to `ready`.
 * Run after `npm run build` (npm test does).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UnsecuredJWT } from 'jose';
import puppeteer, { type Browser } from 'puppeteer-core';
import { build } from 'vite';
import { chromiumArgs, chromiumPath } from '../support/chromium.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(ROOT, 'node_modules/.bin');
const project = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
/** The optional peers a consumer adds, at the versions this repository tests with (npm's cache has them). */
const PEERS = ['@types/node', '@types/react', 'vue', 'redis'].map((name) => `${name}@${project.devDependencies[name]}`);

let work: string;
let app: string;

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
  writeFileSync(path.join(app, file), text);
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { cwd: app, encoding: 'utf8', stdio: 'pipe', timeout: 120_000 });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${path.basename(command)} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

before(() => {
  work = mkdtempSync(path.join(tmpdir(), 'secure-widget-pack-'));
  app = path.join(work, 'app');
  mkdirSync(app);
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1)!;
  write('package.json', JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  run('npm', [
    'install',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--ignore-scripts',
    '--loglevel=error',
    path.join(work, tarball),
    ...PEERS,
  ]);
});

after(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package, installed from its tarball', () => {
  it('installs with its two dependencies, and ships only dist/ and the manifest', () => {
    const installed = path.join(app, 'node_modules/secure-widget');
    const shipped = new Set(['LICENSE', 'README.md', 'custom-elements.json', 'dist', 'package.json']);
    assert.deepEqual(
      readdirSync(installed).filter((name) => !shipped.has(name)),
      [],
    );
    for (const dependency of ['@lit/reactive-element', 'jose']) {
      assert.ok(existsSync(path.join(app, 'node_modules', dependency, 'package.json')), `${dependency} installed`);
    }
  });

  it('Node imports secure-widget/server and secure-widget/server/redis', () => {
    const script = `
      const server = await import('secure-widget/server');
      const redis = await import('secure-widget/server/redis');
      console.log(JSON.stringify({ server: Object.keys(server), redis: Object.keys(redis) }));`;
    const exported = JSON.parse(run(process.execPath, ['--input-type=module', '-e', script])) as Record<
      string,
      string[]
    >;
    for (const name of ['createTokenHandler', 'accessKeyExchange', 'tokenExchange', 'signToken', 'toNodeListener']) {
      assert.ok(exported.server!.includes(name), `secure-widget/server exports ${name}`);
    }
    assert.ok(exported.redis!.includes('redisStore'), 'secure-widget/server/redis exports redisStore');
  });

  it('TypeScript compiles a consumer of the event map, the React JSX types and the server types', () => {
    write(
      'tsconfig.json',
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: ['node'],
          jsx: 'react-jsx',
          skipLibCheck: false,
        },
        include: ['src/**/*.ts', 'src/**/*.tsx'],
      }),
    );
    write(
      'src/page.ts',
      `import { SecureWidget, WidgetStatus, type SecureWidgetErrorCode } from 'secure-widget';
      const widget = document.querySelector('secure-widget');
      widget?.addEventListener('secure-widget-error', (event) => {
        const code: SecureWidgetErrorCode = event.detail.code;
        const fatal: boolean = event.detail.fatal;
        console.log(code, fatal);
      });
      document.addEventListener('secure-widget-ready', (event) => console.log(event.detail.mode === 'iframe'));
      const created: SecureWidget = document.createElement('secure-widget');
      created.fetchToken = async (signal) => (await fetch('/api/widget-token', { signal })).text();
      console.log(created.status === WidgetStatus.ready);
      // @ts-expect-error the detail of secure-widget-reload has no code
      widget?.addEventListener('secure-widget-reload', (event) => event.detail.code);
      `,
    );
    write(
      'src/app.tsx',
      `import type {} from 'secure-widget/react';
      export function Widget({ userId }: { userId: string }) {
        return (
          <secure-widget
            token-endpoint="/api/widget-token"
            bundle-url="https://vendor.example/widget.js"
            refresh-margin={30}
            fetchToken={(signal) => fetch('/api/widget-token?user=' + userId, { signal }).then((r) => r.text())}
            onsecure-widget-ready={(event) => console.log(event.detail.mode)}
            onsecure-widget-error={(event) => console.log(event.detail.code, event.detail.retryAt)}
          >
            <template />
          </secure-widget>
        );
      }
      // @ts-expect-error mode is 'bundle' or 'iframe'
      export const wrongMode = <secure-widget mode="banana" />;
      // @ts-expect-error a listener gets the event's own detail
      export const wrongDetail = <secure-widget onsecure-widget-ready={(event) => event.detail.code} />;
      `,
    );
    write(
      'src/server.ts',
      `import { createServer } from 'node:http';
      import { createClient } from 'redis';
      import { accessKeyExchange, createTokenHandler, toNodeListener, TokenIssueError } from 'secure-widget/server';
      import { redisStore } from 'secure-widget/server/redis';
      const client = createClient({ url: 'redis://127.0.0.1:6379' });
      const handler = createTokenHandler({
        authorize: (request: Request) => (request.headers.get('cookie') ? { id: 'u1' } : null),
        userId: (user) => user.id,
        issue: accessKeyExchange({ url: 'https://vendor.example/token', accessId: 'id', accessKey: 'key' }),
        store: redisStore({ client }),
      });
      createServer(toNodeListener(handler));
      const failure: TokenIssueError['code'] = 'issuer-misconfigured';
      console.log(failure);
      `,
    );
    run(path.join(BIN, 'tsc'), ['-p', 'tsconfig.json']);
  });

  it('vue-tsc checks a Vue single-file component against the Vue types', () => {
    write(
      'vue/tsconfig.json',
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'Bundler',
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          types: [],
          skipLibCheck: false,
        },
        include: ['*.vue', '*.ts'],
      }),
    );
    write('vue/env.ts', `import type {} from 'secure-widget/vue';\n`);
    write(
      'vue/Widget.vue',
      `<script setup lang="ts">
      import { ref } from 'vue';
      const mode = ref<string>('');
      const fetchToken = (signal: AbortSignal) => fetch('/api/widget-token', { signal }).then((response) => response.text());
      // Bound, not written as a static attribute: vue-tsc 3.3 loses the listener's event type when a static attribute
      // value holds "//" (seen with vue-tsc 3.3.14).
      const bundleUrl = 'https://vendor.example/widget.js';
      </script>
      <template>
        <secure-widget token-endpoint="/api/widget-token" :bundle-url="bundleUrl"
          :fetchToken="fetchToken" @secure-widget-ready="(event) => (mode = event.detail.mode)">
          <template><vendor-widget /></template>
        </secure-widget>
        <!-- @vue-expect-error mode is 'bundle' or 'iframe' -->
        <secure-widget mode="banana" />
        <!-- @vue-expect-error a listener gets the event's own detail -->
        <secure-widget @secure-widget-reload="(event) => (mode = event.detail.code)" />
      </template>
      `,
    );
    run(path.join(BIN, 'vue-tsc'), ['-p', 'vue/tsconfig.json']);
  });

  describe('in Chromium, from a Vite build', () => {
    let server: Server;
    let origin: string;
    let browser: Browser;

    before(async () => {
      const token = new UnsecuredJWT({ sub: 'u1' }).setIssuedAt().setExpirationTime('1h').encode();
      // A vendor stand-in: the element's part is to load it and hand it the token, which it shows it received.
      write(
        'public/vendor.js',
        `customElements.define('pack-vendor', class extends HTMLElement {
          static observedAttributes = ['embed-token'];
          attributeChangedCallback() { this.textContent = 'token received'; }
        });`,
      );
      copyFileSync(
        path.join(app, 'node_modules/secure-widget/dist/secure-widget.classic.js'),
        path.join(app, 'public/secure-widget.classic.js'),
      );
      const widget = `<secure-widget embed-token="${token}" bundle-url="/vendor.js"><template><pack-vendor></pack-vendor></template></secure-widget>`;
      const outcome = `<script>
        window.outcome = new Promise((resolve) => {
          document.addEventListener('secure-widget-ready', () => resolve({ status: 'ready', vendor: document.querySelector('pack-vendor')?.textContent }));
          document.addEventListener('secure-widget-error', (event) => resolve({ status: 'error', code: event.detail.code, message: event.detail.message }));
        });
      </script>`;
      write('index.html', `<!doctype html>${outcome}${widget}<script type="module">import 'secure-widget';</script>`);
      // An app that has Lit's ReactiveElement already: the element entry must use that copy, not bring its own.
      write('element.html', `<!doctype html>${outcome}${widget}<script type="module" src="/element-app.js"></script>`);
      write(
        'element-app.js',
        `import { ReactiveElement } from '@lit/reactive-element';
        import { SecureWidget } from 'secure-widget/element';
        customElements.define('app-element', class extends ReactiveElement {});
        window.sharesLit = SecureWidget.prototype instanceof ReactiveElement;`,
      );
      write('classic.html', `<!doctype html>${outcome}<script src="/secure-widget.classic.js"></script>${widget}`);
      write(
        'frame.html',
        `<!doctype html><script type="module">
          import { connectToHost } from 'secure-widget/frame';
          window.outcome = Promise.resolve({ status: typeof connectToHost === 'function' ? 'ready' : 'missing' });
        </script>`,
      );
      await build({
        root: app,
        configFile: false,
        logLevel: 'error',
        build: {
          outDir: 'dist',
          rolldownOptions: {
            input: Object.fromEntries(
              ['index', 'element', 'classic', 'frame'].map((page) => [page, path.join(app, `${page}.html`)]),
            ),
          },
        },
      });
      server = createServer((request, response) => {
        const file = path.join(app, 'dist', new URL(request.url!, 'http://x').pathname);
        if (!file.startsWith(path.join(app, 'dist')) || !existsSync(file)) return response.writeHead(404).end();
        const type = file.endsWith('.js') ? 'text/javascript' : 'text/html';
        response.writeHead(200, { 'Content-Type': type }).end(readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      browser = await puppeteer.launch({ executablePath: chromiumPath, args: chromiumArgs, headless: true });
    });

    after(async () => {
      await browser?.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    });

    async function visit(page: string): Promise<{ outcome: unknown; sharesLit: unknown }> {
      // A context of its own for each page: no cache or storage carries over from the page before.
      const context = await browser.createBrowserContext();
      try {
        const tab = await context.newPage();
        await tab.goto(`${origin}/${page}.html`, { timeout: 10_000 });
        const outcome = await tab.evaluate(() =>
          Promise.race([
            (window as unknown as { outcome: Promise<unknown> }).outcome,
            new Promise((resolve) => setTimeout(() => resolve({ status: 'timed out' }), 8_000)),
          ]),
        );
        const sharesLit = await tab.evaluate(() => (window as unknown as { sharesLit?: boolean }).sharesLit);
        return { outcome, sharesLit };
      } finally {
        await context.close();
      }
    }

    it('the all-in ES module defines the element, and a widget reaches ready', async () => {
      assert.deepEqual((await visit('index')).outcome, { status: 'ready', vendor: 'token received' });
    });

    it("the Lit-external element reaches ready on the app's own copy of ReactiveElement", async () => {
      const { outcome, sharesLit } = await visit('element');
      assert.deepEqual(outcome, { status: 'ready', vendor: 'token received' });
      assert.equal(sharesLit, true);
      const chunks = readdirSync(path.join(app, 'dist/assets')).filter((name) => name.startsWith('element'));
      const code = chunks.map((name) => readFileSync(path.join(app, 'dist/assets', name), 'utf8')).join('');
      assert.equal(code.match(/reactiveElementVersions/g)?.length, 1, 'one copy of ReactiveElement in the build');
    });

    it('the classic script works from a plain <script src>', async () => {
      assert.deepEqual((await visit('classic')).outcome, { status: 'ready', vendor: 'token received' });
    });

    it('secure-widget/frame imports', async () => {
      assert.deepEqual((await visit('frame')).outcome, { status: 'ready' });
    });
  });
});
