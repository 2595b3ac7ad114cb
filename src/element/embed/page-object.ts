/**
 * `window[name]`, when it is an object the page's own script made: a plain object (`{ reload() {} }`), or an instance
 * of a class that script defined. Never a host object (`location`, `history`, `navigation`, `document`, a node, a
 * window, a namespace such as `CSS` or `JSON`, or whatever the platform adds next), since the name comes from markup that a CMS author may write: an
 * allow-list by what the object is, not a deny-list of names. Host objects are told by their native constructors.
 */
export function pageObject(name: string): Record<string, unknown> | null {
  if (!/^[A-Za-z_$][\w$]{0,63}$/.test(name)) return null;
  try {
    const value = (globalThis as Record<string, unknown>)[name];
    return isScriptMade(value) ? (value as Record<string, unknown>) : null;
  } catch {
    // A cross-origin window (`top`, `parent`) or a hostile getter throws on access.
    return null;
  }
}

function isScriptMade(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  // The platform's namespaces (CSS, JSON, Math, Reflect, Intl, Atomics, WebAssembly, console) are plain objects too;
  // each carries its name as Symbol.toStringTag, which no object literal of a page's script does.
  if (Symbol.toStringTag in value) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === null || prototype === Object.prototype) return true;
  const maker = (prototype as { constructor?: unknown }).constructor;
  if (typeof maker !== 'function') return false;
  // What the platform defines prints as `function Location() { [native code] }`; a script's class prints its source.
  return !/\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(maker));
}
