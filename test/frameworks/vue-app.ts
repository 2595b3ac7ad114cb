/**
 * A Vue 3 app rendering `<secure-widget>` the way a Vue user writes it: a template (compiled in the browser by Vue's
 * full build, so that `app.config.compilerOptions.isCustomElement` applies), an inline `:fetchToken` arrow (a new
 * function on every render; Vue sets it as a property because the element has one), a `<template>` child, and
 * `@secure-widget-*` listeners that set state. Built by Vite (`npm run build:test-pages`) with Vue's production build.
 */
// The element first: Vue checks `'fetchToken' in element` when it patches the prop, so the tag must be defined already.
import '../../src/index.js';
import { createApp, nextTick, ref, version } from 'vue';
import { readState, requestToken, type MountPage } from './page.js';

export const framework = `Vue ${version}`;

const template = `
  <section>
    <output data-component-state="" :data-count="count" :data-token-events="tokenEvents"
            :data-ready-events="readyEvents" :data-last-error="lastError">
      Render {{ count }}: {{ readyEvents > 0 ? 'widget ready' : 'waiting for the widget' }}
    </output>
    <secure-widget
      :fetchToken="(signal) => requestToken(endpoint, signal)"
      :bundle-url="bundleUrl"
      @secure-widget-token="tokenEvents++"
      @secure-widget-ready="readyEvents++"
      @secure-widget-error="lastError = $event.detail.code"
    >
      <template>
        <demo-widget :community-id="communityId" :data-user-id="userId"></demo-widget>
      </template>
    </secure-widget>
  </section>`;

export const mount: MountPage = async (container, options) => {
  const count = ref(0);
  const app = createApp({
    template,
    setup() {
      return {
        ...options,
        requestToken,
        count,
        tokenEvents: ref(0),
        readyEvents: ref(0),
        lastError: ref(''),
      };
    },
  });
  app.config.compilerOptions.isCustomElement = (tag) => tag === 'secure-widget' || tag === 'demo-widget';
  app.mount(container);
  await nextTick();

  return {
    async rerender() {
      count.value += 1;
      await nextTick();
    },
    state: () => readState(container),
    unmount: () => app.unmount(),
  };
};
