import { SecureWidgetError } from '../errors.js';
import { pageObject } from './page-object.js';

/**
 * Where the vendor element takes its credential from (docs/vendors.md): an attribute of its own (Returning.AI), a
 * key of the JavaScript config object its `settings` attribute names (Qrvey), or whatever a page's `applyToken` hook
 * does. The credential is the token, or in dev mode the `api-key`.
 */
export interface TokenTarget {
  /** Puts `credential` where the vendor reads it; for a template, before the element is connected. */
  apply(vendor: Element, credential: string): void;
  /** The credential the vendor element holds now (what a page-wide vendor reload carries to it). */
  read(vendor: Element): string | null;
}

/** `applyToken(vendorElement, token)`: the JavaScript hook for vendors of any other style. */
export type ApplyToken = (vendor: Element, token: string) => void;

/** An attribute on the vendor element: `token-attribute` (`embed-token`), or `api-key` in dev mode. */
export function attributeTarget(name: string): TokenTarget {
  return {
    apply: (vendor, credential) => {
      if (vendor.getAttribute(name) !== credential) vendor.setAttribute(name, credential);
    },
    read: (vendor) => vendor.getAttribute(name),
  };
}

/**
 * A key of the config object that the vendor element's `attribute` names (`<qv-widget settings="qvConfig">` →
 * `window.qvConfig.qvToken`). The object must be one the page's script made (page-object.ts), or is made here when
 * the page has none; the key must be an own data property or absent: never an accessor, which would run page code.
 */
export function configTarget(attribute: string, key: string): TokenTarget {
  return {
    apply: (vendor, credential) => {
      configObject(vendor, attribute, key)[key] = credential;
    },
    read: (vendor) => {
      const value = configObject(vendor, attribute, key)[key];
      return typeof value === 'string' ? value : null;
    },
  };
}

/**
 * The page's `applyToken` hook when it has one, else `fallback`. Looked up at each call: a framework passes a new
 * function on every render.
 */
export function hookTarget(hook: () => ApplyToken | null | undefined, fallback: TokenTarget): TokenTarget {
  let last: string | null = null;
  return {
    apply: (vendor, credential) => {
      const apply = hook();
      if (typeof apply !== 'function') return fallback.apply(vendor, credential);
      last = credential;
      apply.call(undefined, vendor, credential);
    },
    read: (vendor) => (typeof hook() === 'function' ? last : fallback.read(vendor)),
  };
}

/**
 * The config object for `vendor`, checked as the page gave it. Thrown as `config-invalid` before any request (the
 * embedding checks the template's element as it finds it), never silently replaced.
 */
export function configObject(vendor: Element, attribute: string, key: string): Record<string, unknown> {
  const name = vendor.getAttribute(attribute)?.trim() ?? '';
  const invalid = (why: string) => new SecureWidgetError('config-invalid', `The vendor element's ${attribute} ${why}`);
  if (!/^[A-Za-z_$][\w$]{0,63}$/.test(name)) throw invalid('attribute must name a global config object.');
  let object = pageObject(name);
  if (!object) {
    if ((globalThis as Record<string, unknown>)[name] !== undefined) {
      throw invalid(`names "${name}", which is not a plain object.`);
    }
    object = {};
    (globalThis as Record<string, unknown>)[name] = object;
  }
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  if (descriptor && !('value' in descriptor && descriptor.writable)) {
    throw invalid(`object "${name}" has "${key}" as an accessor or read-only property.`);
  }
  return object;
}
