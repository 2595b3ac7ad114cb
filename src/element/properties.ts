/**
 * `<secure-widget>`'s reactive properties, declared once, with the attribute each reads (`false`: a property only, such
 * as a function). The element's `static properties`, its restart inputs, the config reader's input type and the
 * framework types derive from this table; the property types and their documentation are the element's `declare`
 * fields (secure-widget.ts), which custom-elements.json is generated from, and test/node/manifest.test.ts checks that
 * the manifest, README's table and the framework types name the same attributes.
 */
export const PROPERTIES = {
  tokenEndpoint: 'token-endpoint',
  tokenCredentials: 'token-credentials',
  tokenScope: 'token-scope',
  tokenKey: 'token-key',
  mode: 'mode',
  bundleUrl: 'bundle-url',
  bundleType: 'bundle-type',
  integrity: 'integrity',
  src: 'src',
  tokenAttribute: 'token-attribute',
  expiryEvent: 'expiry-event',
  reloadGlobal: 'reload-global',
  configKey: 'config-key',
  configAttribute: 'config-attribute',
  refreshMargin: 'refresh-margin',
  fetchToken: false,
  applyToken: false,
  sandbox: 'sandbox',
  allow: 'allow',
  referrerPolicy: 'referrerpolicy',
  height: 'height',
  width: 'width',
} as const satisfies Record<string, string | false>;

/**
 * The properties whose change does not start the widget over; a change of any other is another token source or
 * another embedding. `fetchToken` starts over only when there was none or is none now (a framework passes a new
 * closure on every render: secure-widget.ts, restartInputs); `applyToken` is read at each use.
 */
export const KEPT_ON_CHANGE: readonly PropertyName[] = ['integrity', 'refreshMargin', 'applyToken'];

export type PropertyName = keyof typeof PROPERTIES;

/** The properties markup can set, by their attribute. */
export type AttributeProperty = {
  [Name in PropertyName]: (typeof PROPERTIES)[Name] extends string ? Name : never;
}[PropertyName];

/** Attributes read once and removed, since they carry a credential: a server-rendered token, a dev key. */
export const CONSUMED_ATTRIBUTES = ['embed-token', 'api-key'] as const;

/**
 * The community protocol of server-rendered custom elements (Lit SSR, @lit/react): while the attribute is there the
 * framework has not hydrated the markup, and the element changes nothing of it (docs/decisions.md, 33).
 */
export const DEFER_HYDRATION = 'defer-hydration';
