import { SecureWidgetError } from '../errors.js';
import { pageState } from '../page-state.js';
import { acceptUrl } from '../url-policy.js';

export type BundleType = 'classic' | 'module';

export interface BundleOptions {
  type: BundleType;
  integrity: string | null;
  nonce: string | null;
}

// Trusted Types are not in TypeScript's DOM library yet: the little we use of them.
interface TrustedTypePolicy {
  createScriptURL(url: string): unknown;
}
interface TrustedTypePolicyFactory {
  createPolicy(name: string, rules: { createScriptURL(url: string): string }): TrustedTypePolicy;
}

let policy: TrustedTypePolicy | undefined;

/**
 * Under `require-trusted-types-for 'script'` a plain string cannot become a script URL. Our policy passes exactly
 * the URLs our URL policy accepts, so allowing `secure-widget` in a CSP's `trusted-types` list grants nothing more.
 */
function scriptUrl(url: URL): string {
  const factory = (globalThis as { trustedTypes?: TrustedTypePolicyFactory }).trustedTypes;
  if (!factory) return url.href;
  try {
    policy ??= factory.createPolicy('secure-widget', {
      createScriptURL: (value) => acceptUrl(value, location.href, 'bundle-url').href,
    });
  } catch (cause) {
    // The page's CSP lists which policies may exist: a configuration to fix, not a load that failed.
    throw new SecureWidgetError(
      'config-invalid',
      "The page's CSP does not allow the Trusted Types policy: add trusted-types secure-widget.",
      { cause },
    );
  }
  return policy.createScriptURL(url.href) as string;
}

/** The page's own CSP nonce, so a nonce-based CSP admits the vendor script without any configuration. */
function pageNonce(): string | null {
  const script = document.querySelector<HTMLScriptElement>('script[nonce]');
  return script?.nonce || script?.getAttribute('nonce') || null;
}

/** Whether the page runs or fetches the script already: loaded by us, or by a `<script src>` of its own. */
function known(url: URL): boolean {
  return pageState.bundles.has(url.href) || [...document.scripts].some((script) => script.src === url.href);
}

/**
 * The request's integrity, CORS mode and nonce, the same on the script and on its preload (where they differ, the
 * browser downloads the script twice). Subresource Integrity needs a CORS response; no cookies go to the vendor's CDN.
 */
function requestFor<T extends HTMLScriptElement | HTMLLinkElement>(element: T, options: BundleOptions): T {
  if (options.integrity) Object.assign(element, { integrity: options.integrity, crossOrigin: 'anonymous' });
  const nonce = options.nonce ?? pageNonce();
  if (nonce) element.nonce = nonce;
  return element;
}

/**
 * Fetches a vendor script without running it, so that the download overlaps the token request where the script must
 * not run yet (a plain vendor child has no token until the token arrives): `loadBundle` later runs it from the preload.
 */
export function preloadBundle(url: URL, options: BundleOptions): void {
  if (known(url)) return;
  const link = requestFor(document.createElement('link'), options);
  // A module script is fetched in CORS mode whatever its attributes: modulepreload matches it, preload does not.
  if (options.type === 'module') link.rel = 'modulepreload';
  else Object.assign(link, { rel: 'preload', as: 'script' });
  link.href = url.href;
  document.head.append(link);
}

/**
 * Loads a vendor script once per page, however many widgets ask for it. A script the page included itself counts
 * as loaded. A failed load is forgotten, so that `refresh()` can try again.
 */
export function loadBundle(url: URL, options: BundleOptions): Promise<void> {
  const key = url.href;
  if (known(url)) return pageState.bundles.get(key) ?? Promise.resolve();

  const loading = new Promise<void>((resolve, reject) => {
    const script = requestFor(document.createElement('script'), options);
    const fail = (message: string, cause?: unknown) => {
      pageState.bundles.delete(key);
      script.remove();
      const error = cause instanceof SecureWidgetError ? cause : null;
      reject(error ?? new SecureWidgetError('bundle-load', message, { cause }));
    };
    if (options.type === 'module') script.type = 'module';
    script.addEventListener('load', () => resolve(), { once: true });
    script.addEventListener('error', () => fail(`The widget bundle could not be loaded from ${url.origin}.`), {
      once: true,
    });
    try {
      (script as { src: unknown }).src = scriptUrl(url);
    } catch (cause) {
      fail('Trusted Types refused the widget bundle: allow the secure-widget policy.', cause);
      return;
    }
    document.head.append(script);
  });
  pageState.bundles.set(key, loading);
  return loading;
}
