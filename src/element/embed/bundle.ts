import { SecureWidgetError } from '../errors.js';
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

const bundles = new Map<string, Promise<void>>();
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
      'The page\'s CSP does not allow the Trusted Types policy: add trusted-types secure-widget.',
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

/**
 * Loads a vendor script once per page, however many widgets ask for it. A script the page included itself counts
 * as loaded. A failed load is forgotten, so that `refresh()` can try again.
 */
export function loadBundle(url: URL, options: BundleOptions): Promise<void> {
  const key = url.href;
  const known = bundles.get(key);
  if (known) return known;
  if ([...document.scripts].some((script) => script.src === key)) return Promise.resolve();

  const loading = new Promise<void>((resolve, reject) => {
    const script = document.createElement('script');
    const fail = (message: string, cause?: unknown) => {
      bundles.delete(key);
      script.remove();
      const error = cause instanceof SecureWidgetError ? cause : null;
      reject(error ?? new SecureWidgetError('bundle-load', message, { cause }));
    };
    if (options.type === 'module') script.type = 'module';
    if (options.integrity) {
      script.integrity = options.integrity;
      // Subresource Integrity needs a CORS response; no cookies go to the vendor's CDN.
      script.crossOrigin = 'anonymous';
    }
    const nonce = options.nonce ?? pageNonce();
    if (nonce) script.nonce = nonce;
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
  bundles.set(key, loading);
  return loading;
}
