import { reactHydrationScenario } from './frameworks/ssr-scenario.js';

// test/frameworks/react-ssr-app.tsx with React's development build: the one that prints hydration warnings.
describe('a server-rendered React 19 page with <SecureWidget> (development build)', () => {
  reactHydrationScenario('development');
});
