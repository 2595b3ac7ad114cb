// Defines <secure-widget>. Imported before anything renders: Vue sets a binding as a property (:fetchToken) only when
// the element already has it.
import 'secure-widget';
import { defineComponent, ref } from 'vue';

/**
 * A template string, compiled in the browser: the app imports Vue's full build (vite.config.ts: `vue` aliased to
 * `vue/dist/vue.esm-bundler.js`), where `compilerOptions.isCustomElement` (main.ts) applies. In a .vue file the same
 * markup goes in `<template>`, and the setting into @vitejs/plugin-vue's options (README.md).
 */
export const App = defineComponent({
  setup() {
    return {
      status: ref('loading'),
      // Your backend's token URL, on this app's origin (in `vite dev`, proxy /api to your backend).
      tokenEndpoint: '/api/widget-token',
      // The vendor's script.
      bundleUrl: 'http://127.0.0.1:5173/vendor/widget.js',
    };
  },
  template: `
    <main>
      <h1>secure-widget in Vue</h1>
      <p>Widget: <strong data-example-status>{{ status }}</strong></p>
      <secure-widget
        :token-endpoint="tokenEndpoint"
        :bundle-url="bundleUrl"
        @secure-widget-ready="status = 'ready'"
        @secure-widget-error="status = 'error: ' + $event.detail.code"
      >
        <template>
          <demo-widget community-id="42"></demo-widget>
        </template>
        <p slot="loading">Loading the widget…</p>
      </secure-widget>
    </main>`,
});
