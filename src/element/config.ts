import type { BundleOptions } from './embed/bundle.js';
import { SecureWidgetError } from './errors.js';
import { positiveNumber } from '../protocol/token-rules.js';
import type { AttributeProperty } from './properties.js';
import { acceptUrl } from './url-policy.js';

export type WidgetMode = 'bundle' | 'iframe';
export type TokenScope = 'page' | 'element';

/** @internal The element's attributes as typed values: junk becomes the default, a dangerous value an error. */
export interface WidgetConfig {
  mode: WidgetMode;
  endpointUrl: URL | null;
  credentials: RequestCredentials;
  sharing: TokenScope;
  /** Widgets with the same key share one token (with `fetchToken`: across functions); null when not set. */
  tokenKey: string | null;
  /** ms */
  marginMs: number;
  /** Bundle mode: the vendor script and element. */
  bundle: VendorSettings;
  src: URL | null;
  frame: FrameConfig;
}

/**
 * Bundle mode: the vendor's script, where its element takes the token from, and how it says and hears of expiry.
 * @internal
 */
export interface VendorSettings {
  bundleUrl: URL | null;
  scriptOptions: BundleOptions;
  tokenAttribute: string;
  /** Config-object vendors (Qrvey): the key of the config object the token goes into; null for attribute vendors. */
  configKey: string | null;
  /** The vendor element's attribute that names its config object; default `settings`. */
  configAttribute: string;
  expiryEvent: string;
  reloadGlobal: string;
}

/** The iframe's own attributes (iframe mode). */
export interface FrameConfig {
  sandbox: string;
  allow: string | null;
  title: string;
  referrerPolicy: string;
  /** A CSS length, or null to follow the frame's `resize` messages. */
  height: string | null;
  width: string | null;
}

/** The properties a script may also set as numbers (`el.refreshMargin = 30`, `el.height = 300`). */
type NumericProperty = 'refreshMargin' | 'height' | 'width';

/**
 * What the config reader takes: every property markup can set (properties.ts), as loosely as markup gives it (junk
 * becomes the default here), and the element's built-in `nonce` (browsers hide the attribute's value once the element
 * is connected) and `title` (in iframe mode, the frame's accessible name).
 */
export type WidgetAttributes = {
  [Name in AttributeProperty]?: Name extends NumericProperty ? string | number | null : string | null;
} & {
  nonce?: string | null;
  title?: string | null;
};

export const DEFAULT_SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups';

/**
 * A referrer policy the platform knows, else the documented default: an iframe reads an unknown value as "" (the
 * page's own policy), so the platform's own reading is the allow-list, and a policy it adds later passes too.
 */
function referrerPolicy(value: string | null | undefined): string {
  const probe = document.createElement('iframe');
  probe.referrerPolicy = (value?.trim().toLowerCase() ?? '') as ReferrerPolicy;
  return probe.referrerPolicy || 'strict-origin-when-cross-origin';
}

/** `300` means 300px; any other CSS length is used as written, junk means "not set". */
function cssLength(value: string | number | null | undefined): string | null {
  const text = String(value ?? '').trim();
  if (/^\d+(\.\d+)?$/.test(text)) return `${text}px`;
  return /^\d+(\.\d+)?(px|em|rem|vh|vw|%)$/.test(text) ? text : null;
}

export const DEFAULT_MARGIN_SECONDS = 60;
const CREDENTIALS: readonly RequestCredentials[] = ['same-origin', 'include', 'omit'];

/**
 * What `token-attribute` may be: `token`, a name ending in `-token` (`embed-token`, `access-token`) or a `data-*`
 * name. An allow-list, because the attribute is set on an element the page does not control: no HTML element treats
 * such a name as a URL (a deny-list missed `srcset`, `ping`, `poster`…, and the browser requested the token as a
 * path), an event handler or style, and no future one will.
 */
const TOKEN_ATTRIBUTE = /^(?:[a-z][a-z0-9]*-)*token$|^data-[a-z0-9]+(?:-[a-z0-9]+)*$/;

function choice<T extends string>(value: string | null | undefined, allowed: readonly T[], fallback: T): T {
  const normalised = value?.trim().toLowerCase();
  return allowed.includes(normalised as T) ? (normalised as T) : fallback;
}

function text(value: string | null | undefined, fallback: string): string {
  const trimmed = value?.trim();
  return trimmed ? trimmed : fallback;
}

function invalid(message: string): SecureWidgetError {
  return new SecureWidgetError('config-invalid', message);
}

/**
 * `config-key` and `config-attribute`: a key that a markup author names, of an object the page owns. Only a plain
 * identifier, and never one every object already has (`__proto__`, `constructor`, `toString`…): writing there would
 * reach the prototype chain rather than the vendor's setting.
 */
function configTarget(attributes: WidgetAttributes): { configKey: string | null; configAttribute: string } {
  const configKey = attributes.configKey?.trim() || null;
  if (configKey !== null && (!/^[A-Za-z_$][\w$]{0,63}$/.test(configKey) || configKey in Object.prototype)) {
    throw invalid(`config-key "${configKey.slice(0, 64)}" must be a plain identifier such as qvToken.`);
  }
  const configAttribute = text(attributes.configAttribute, 'settings').toLowerCase();
  if (!/^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/.test(configAttribute)) {
    throw invalid(`config-attribute "${configAttribute.slice(0, 64)}" must be an attribute name such as settings.`);
  }
  return { configKey, configAttribute };
}

export function readConfig(attributes: WidgetAttributes, page: Location = location): WidgetConfig {
  const base = document.baseURI;
  const bundleUrl = attributes.bundleUrl ? acceptUrl(attributes.bundleUrl, base, 'bundle-url') : null;
  const src = attributes.src ? acceptUrl(attributes.src, base, 'src') : null;
  const mode = choice(attributes.mode, ['bundle', 'iframe'], src && !bundleUrl ? 'iframe' : 'bundle');

  const endpointValue = attributes.tokenEndpoint?.trim();
  const endpoint = endpointValue ? acceptUrl(endpointValue, base, 'token-endpoint', page.origin) : null;

  if (mode === 'iframe' && !src) throw invalid("Iframe mode needs src: the vendor's widget page.");
  const sandbox = (attributes.sandbox ?? DEFAULT_SANDBOX).trim().split(/\s+/).filter(Boolean);
  // A frame on the page's own origin with both of these can reach into its parent and remove its own sandbox.
  if (
    mode === 'iframe' &&
    src?.origin === page.origin &&
    sandbox.includes('allow-scripts') &&
    sandbox.includes('allow-same-origin')
  ) {
    throw invalid("A src on the page's own origin cannot have allow-scripts with allow-same-origin in its sandbox.");
  }

  const margin = positiveNumber(attributes.refreshMargin) ?? DEFAULT_MARGIN_SECONDS;
  const tokenAttribute = text(attributes.tokenAttribute, 'embed-token').toLowerCase();
  if (!TOKEN_ATTRIBUTE.test(tokenAttribute)) {
    throw invalid(`token-attribute "${tokenAttribute.slice(0, 64)}" must be "token", "*-token" or "data-*".`);
  }

  return {
    mode,
    endpointUrl: endpoint,
    credentials: choice(attributes.tokenCredentials, CREDENTIALS, 'same-origin'),
    sharing: choice(attributes.tokenScope, ['page', 'element'], 'page'),
    tokenKey: attributes.tokenKey?.trim() || null,
    marginMs: margin * 1000,
    bundle: {
      bundleUrl,
      scriptOptions: {
        type: choice(attributes.bundleType, ['classic', 'module'], 'classic'),
        integrity: attributes.integrity?.trim() || null,
        nonce: attributes.nonce?.trim() || null,
      },
      tokenAttribute,
      ...configTarget(attributes),
      expiryEvent: text(attributes.expiryEvent, 'rai-error'),
      reloadGlobal: text(attributes.reloadGlobal, 'ReturningAIWidget'),
    },
    src,
    frame: {
      sandbox: sandbox.join(' '),
      allow: attributes.allow?.trim() || null,
      title: text(attributes.title, 'Embedded widget'),
      referrerPolicy: referrerPolicy(attributes.referrerPolicy),
      height: cssLength(attributes.height),
      width: cssLength(attributes.width),
    },
  };
}
