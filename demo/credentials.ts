import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

export interface DemoCredentials {
  accessId: string;
  accessKey: string;
}

/**
 * The demo host's access id and key, as a real host keeps them: in the server's environment (a git-ignored `.env`
 * works), never in the page or the repository. Without them, a random pair made for this process lets the demo run
 * on a fresh clone; the reference vendor of the same process is told the same pair.
 */
export function demoCredentials(): DemoCredentials {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return {
    accessId: process.env.DEMO_ACCESS_ID?.trim() || 'demo-host',
    accessKey: process.env.DEMO_ACCESS_KEY?.trim() || randomBytes(32).toString('base64url'),
  };
}
