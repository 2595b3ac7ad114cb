import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

// The browser every test and benchmark runs in: Debian's Chromium unless CHROME_PATH names another (no test tool may
// download its own). As root it needs --no-sandbox; the rest keeps it from reaching out to a network it does not have.
export const chromiumPath = process.env.CHROME_PATH || '/usr/bin/chromium';

export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Why no browser test can run here, in one line, or null when the browser is there. */
export function chromiumMissing() {
  if (existsSync(chromiumPath)) return null;
  return process.env.CHROME_PATH
    ? `CHROME_PATH=${chromiumPath} does not exist: point it at a Chromium or Chrome binary.`
    : `No browser at ${chromiumPath}: install Chromium (Debian/Ubuntu: apt-get install chromium) or set CHROME_PATH.`;
}

// `node test/support/chromium.mjs`, the first step of `npm test`: one line and exit 1 rather than four cancelled
// suites and a puppeteer stack trace.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const missing = chromiumMissing();
  if (missing) {
    console.error(`npm test needs a browser. ${missing}`);
    process.exit(1);
  }
}
