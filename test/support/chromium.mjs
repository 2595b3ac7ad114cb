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
