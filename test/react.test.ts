import { frameworkScenario } from './frameworks/scenario.js';

// The page is test/frameworks/react-app.tsx, built by `npm run build:test-pages`.
describe('inside a React 19 app', () => {
  frameworkScenario('react-app', /^React 19\./);
});
