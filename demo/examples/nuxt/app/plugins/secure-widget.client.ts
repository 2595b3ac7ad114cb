// Defines <secure-widget> in the browser (a .client plugin: the server renders the tag as plain HTML). The element
// waits while it has `defer-hydration`, which app.vue removes once Vue has hydrated the page.
import 'secure-widget';

export default defineNuxtPlugin(() => {});
