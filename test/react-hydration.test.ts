import { reactHydrationScenario } from './frameworks/ssr-scenario.js';

// test/frameworks/react-ssr-app.tsx with React's production build (the one a deployed app runs).
describe('a server-rendered React 19 page with <SecureWidget> (production build)', () => {
  reactHydrationScenario('production');
});
