import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { tsImport } from 'tsx/esm/api';
import { chromiumArgs, chromiumPath } from './test/support/chromium.mjs';

// The server side of the tests is TypeScript (reference vendor, host endpoint): tsx loads it into this Node process.
const { createTestBackend } = await tsImport('./test/support/test-backend.ts', import.meta.url);
const backend = await createTestBackend();

/** Mounts the real backends on the test server: Koa hands the raw request over, and only a miss goes on to Koa. */
function backendMiddleware(ctx, next) {
  return new Promise((resolve, reject) => {
    // Answered (or the client went away): Koa must not write a response of its own.
    ctx.res.once('close', () => resolve(false));
    backend(ctx.req, ctx.res, (error) => (error ? reject(error) : resolve(true)));
  }).then((passed) => {
    if (passed) return next();
    ctx.respond = false;
  });
}

export default {
  files: ['test/**/*.test.ts', '!test/server/**', '!test/node/**', '!test/package/**'],
  // The page is served at localhost and the vendor at 127.0.0.1 (docs/design.md, "The three sides"): the server listens on both.
  hostname: 'localhost',
  // Lit's production build, as a page gets it: no "Lit is in dev mode" warning in every test's log.
  nodeResolve: { exportConditions: ['production'] },
  concurrency: 1,
  middleware: [backendMiddleware],
  plugins: [esbuildPlugin({ ts: true, tsconfig: './tsconfig.json', target: 'es2022' })],
  browsers: [
    chromeLauncher({
      // shop.example resolves to this machine: a host page off loopback, for the rules that differ there (dev keys).
      launchOptions: {
        executablePath: chromiumPath,
        headless: true,
        args: [...chromiumArgs, '--host-resolver-rules=MAP shop.example 127.0.0.1'],
      },
    }),
  ],
  testFramework: { config: { timeout: 10_000 } },
};
