// https://nuxt.com/docs/api/nuxt-config
const customElements = new Set(['secure-widget', 'demo-widget']);

export default defineNuxtConfig({
  compatibilityDate: '2026-12-01',
  devtools: { enabled: false },
  telemetry: false,
  vue: {
    // Vue must leave both tags to the browser: <secure-widget>, and the vendor's own element inside it. Without
    // this, Vue warns "Failed to resolve component" and renders them as unknown components.
    compilerOptions: { isCustomElement: (tag) => customElements.has(tag) },
  },
  runtimeConfig: {
    // Server only, set when the server starts (NUXT_WIDGET_VENDOR_TOKEN_URL, NUXT_WIDGET_ACCESS_ID,
    // NUXT_WIDGET_ACCESS_KEY): never at build time, where a value would be written into the build output.
    widgetVendorTokenUrl: '',
    widgetAccessId: '',
    widgetAccessKey: '',
    // Sent to the browser: the vendor's script URL only (NUXT_PUBLIC_WIDGET_BUNDLE_URL). Never a secret here.
    public: { widgetBundleUrl: '' },
  },
  routeRules: {
    // The page carries a token for this visitor: no browser or proxy may keep it.
    '/': { headers: { 'cache-control': 'no-store' } },
  },
});
