import { createApp } from 'vue';
import { App } from './App';

const app = createApp(App);
// Both tags are custom elements, not Vue components: the element's and the vendor's.
app.config.compilerOptions.isCustomElement = (tag) => tag === 'secure-widget' || tag === 'demo-widget';
app.mount('#app');
