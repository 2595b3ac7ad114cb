import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // This folder is its own app (its own lockfile), also inside the secure-widget repository: without these, Next.js
  // takes the repository's root for the app's and warns about two lockfiles.
  turbopack: { root: import.meta.dirname },
  outputFileTracingRoot: import.meta.dirname,
  // next dev would otherwise write an AGENTS.md of its own into the example (and keep re-adding it).
  agentRules: false,
  experimental: { agentUpgrade: false },
};

export default nextConfig;
