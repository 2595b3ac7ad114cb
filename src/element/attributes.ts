import type { SecureWidget } from './secure-widget.js';

/**
 * `<secure-widget>`'s attributes, by the names markup uses, typed from the element's properties so that the two never
 * drift (test/node/manifest.test.ts checks these names against custom-elements.json). The framework types
 * (`secure-widget/react`, `secure-widget/vue`) build on it; a template language of any other kind can too.
 */
export interface SecureWidgetAttributes {
  /** Your backend's token URL (`tokenEndpoint`). */
  'token-endpoint'?: SecureWidget['tokenEndpoint'];
  /** `same-origin` (default), `include` or `omit`: the token request's credentials mode. */
  'token-credentials'?: SecureWidget['tokenCredentials'];
  /** `page` (default): share the token with the page's other widgets of the same endpoint; `element`: this one alone. */
  'token-scope'?: SecureWidget['tokenScope'];
  /** Widgets with the same key share one token, whatever `fetchToken` each has. */
  'token-key'?: SecureWidget['tokenKey'];
  /** A server-rendered token, used first while fresh; removed from the DOM once read. */
  'embed-token'?: string | null;
  /** Dev mode only: a vendor key in place of a token, on localhost (or a publishable `pk_…` key anywhere). */
  'api-key'?: string | null;
  /** `bundle` (default) or `iframe`. */
  mode?: SecureWidget['mode'];
  /** Bundle mode: the vendor script (`https:`, or `http:` on localhost). */
  'bundle-url'?: SecureWidget['bundleUrl'];
  /** `classic` (default) or `module`. */
  'bundle-type'?: SecureWidget['bundleType'];
  /** Subresource Integrity of the vendor script. */
  integrity?: SecureWidget['integrity'];
  /** The CSP nonce for the vendor script; default the page's own. */
  nonce?: string | null;
  /** The vendor element's token attribute; default `embed-token`. */
  'token-attribute'?: SecureWidget['tokenAttribute'];
  /** The event the vendor fires when it rejects its token; default `rai-error`. */
  'expiry-event'?: SecureWidget['expiryEvent'];
  /** The global whose `reload()` reloads the vendor's widgets; default `ReturningAIWidget`. */
  'reload-global'?: SecureWidget['reloadGlobal'];
  /** Config-object vendors (Qrvey): the key of the vendor's config object that the token goes into (`qvToken`). */
  'config-key'?: SecureWidget['configKey'];
  /** The vendor element's attribute that names its config object; default `settings`. */
  'config-attribute'?: SecureWidget['configAttribute'];
  /** Seconds before expiry to have the next token in hand; default 60. */
  'refresh-margin'?: SecureWidget['refreshMargin'];
  /** Iframe mode: the vendor's widget page. */
  src?: SecureWidget['src'];
  /** Iframe mode: the frame's sandbox. */
  sandbox?: SecureWidget['sandbox'];
  /** Iframe mode: the frame's permissions policy. */
  allow?: SecureWidget['allow'];
  /** Iframe mode: the frame's accessible title. */
  title?: string | null;
  /** Iframe mode: the frame's referrer policy. */
  referrerpolicy?: SecureWidget['referrerPolicy'];
  /** Iframe mode: the frame's height (`300` is 300px). */
  height?: SecureWidget['height'];
  /** Iframe mode: the frame's width; default 100%. */
  width?: SecureWidget['width'];
}

/** The properties a framework sets that no attribute can carry: functions. */
export type SecureWidgetFunctionProperties = Partial<Pick<SecureWidget, 'fetchToken' | 'applyToken'>>;
