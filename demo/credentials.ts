import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';

export interface DemoCredentials {
  accessId: string;
  accessKey: string;
  /**
   * The host's private API key for the vendor's Qrvey-style token API (sent as `x-api-key`, server to server). A host
   * that embeds only the attribute-style widget (the Express example) needs none.
   */
  apiKey?: string;
}

/**
 * The demo host's access id and key, and its API key, as a real host keeps them: in the server's environment
 * (`DEMO_ACCESS_ID`, `DEMO_ACCESS_KEY`, `DEMO_API_KEY`; a git-ignored `.env` works), never in the page or the
 * repository. Without them, random ones made for this process let the demo run on a fresh clone; the reference
 * vendor of the same process is told the same ones.
 */
export function demoCredentials(): Required<DemoCredentials> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  return {
    accessId: process.env.DEMO_ACCESS_ID?.trim() || 'demo-host',
    accessKey: process.env.DEMO_ACCESS_KEY?.trim() || randomBytes(32).toString('base64url'),
    apiKey: process.env.DEMO_API_KEY?.trim() || randomBytes(32).toString('base64url'),
  };
}
