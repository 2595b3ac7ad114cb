import { frameworkScenario } from './frameworks/scenario.js';

// The page is test/frameworks/vue-app.ts, built by `npm run build:test-pages`.
describe('inside a Vue 3 app', () => {
  frameworkScenario('vue-app', /^Vue 3\./);
});
