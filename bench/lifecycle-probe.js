// Page-side probe for bench/lifecycle.mjs, inlined as the first <script> of <head>, so that it sees every timer and
// listener the library registers. It keeps, for each pending timer and each live listener, where it was registered
// (the stack), and holds targets weakly: after a garbage collection, a listener whose target is gone is no leak.
(() => {
  Error.stackTraceLimit = 16;
  const nativeSetTimeout = window.setTimeout;
  const nativeClearTimeout = window.clearTimeout;
  const nativeSetInterval = window.setInterval;
  const nativeClearInterval = window.clearInterval;
  const nativeAdd = EventTarget.prototype.addEventListener;
  const nativeRemove = EventTarget.prototype.removeEventListener;

  /** The registering code's frames: drops "Error", this function and the wrapper that called it. */
  const registeredAt = () =>
    (new Error().stack ?? '')
      .split('\n')
      .slice(3)
      .map((line) => line.trim());

  /** Pending timers by id (setTimeout and setInterval share one id pool, and either clear ends either). */
  const timers = new Map();
  const forgetTimer = (id) => timers.delete(id);

  window.setTimeout = function setTimeout(callback, delay, ...args) {
    if (typeof callback !== 'function') return nativeSetTimeout.call(window, callback, delay, ...args);
    let id;
    const fire = function (...fired) {
      timers.delete(id);
      return callback.apply(this, fired);
    };
    id = nativeSetTimeout.call(window, fire, delay, ...args);
    timers.set(id, { kind: 'setTimeout', delay: Number(delay) || 0, stack: registeredAt() });
    return id;
  };
  window.setInterval = function setInterval(callback, delay, ...args) {
    const id = nativeSetInterval.call(window, callback, delay, ...args);
    if (typeof callback === 'function') {
      timers.set(id, { kind: 'setInterval', delay: Number(delay) || 0, stack: registeredAt() });
    }
    return id;
  };
  window.clearTimeout = function clearTimeout(id) {
    forgetTimer(id);
    return nativeClearTimeout.call(window, id);
  };
  window.clearInterval = function clearInterval(id) {
    forgetTimer(id);
    return nativeClearInterval.call(window, id);
  };

  /** Live listeners; a record holds its target weakly. */
  const listeners = new Set();
  /** Per target, what removeEventListener must find: the page's listener, and the wrapper registered in its place. */
  const entriesOf = new WeakMap();

  const describe = (target) => {
    if (target === window) return 'window';
    if (target === document) return 'document';
    if (target instanceof Element) return `<${target.localName}>`;
    return target?.constructor?.name ?? typeof target;
  };
  const readCapture = (options) => (typeof options === 'boolean' ? options : Boolean(options?.capture));
  const invoke = (listener, self, event) =>
    typeof listener === 'function' ? listener.call(self, event) : listener.handleEvent(event);

  EventTarget.prototype.addEventListener = function addEventListener(type, listener, options) {
    const flags = typeof options === 'object' && options !== null ? options : {};
    const signal = flags.signal;
    if (listener == null || signal?.aborted) return nativeAdd.call(this, type, listener, options);
    const capture = readCapture(options);
    let entries = entriesOf.get(this);
    if (!entries) entriesOf.set(this, (entries = []));
    // The platform ignores a second registration of the same listener: so do we.
    if (entries.some((entry) => entry.type === type && entry.capture === capture && entry.listener === listener)) {
      return undefined;
    }
    const target = new WeakRef(this);
    const record = {
      type,
      target,
      on: describe(this),
      once: Boolean(flags.once),
      signal: Boolean(signal),
      stack: registeredAt(),
    };
    const entry = { type, capture, listener, registered: listener, record };
    const forget = () => {
      listeners.delete(record);
      const list = entriesOf.get(target.deref());
      const index = list ? list.indexOf(entry) : -1;
      if (index >= 0) list.splice(index, 1);
    };
    // A `once` listener goes after its first event; the wrapper tells us when that happens.
    if (flags.once) {
      entry.registered = function (event) {
        forget();
        return invoke(listener, this, event);
      };
    }
    // A listener registered with a signal goes when the signal aborts.
    if (signal) nativeAdd.call(signal, 'abort', forget, { once: true });
    entries.push(entry);
    listeners.add(record);
    return nativeAdd.call(this, type, entry.registered, options);
  };

  EventTarget.prototype.removeEventListener = function removeEventListener(type, listener, options) {
    const capture = readCapture(options);
    const entries = entriesOf.get(this);
    const index = entries
      ? entries.findIndex((entry) => entry.type === type && entry.capture === capture && entry.listener === listener)
      : -1;
    if (index < 0) return nativeRemove.call(this, type, listener, options);
    const [entry] = entries.splice(index, 1);
    listeners.delete(entry.record);
    return nativeRemove.call(this, type, entry.registered, options);
  };

  const fromLibrary = (stack) => (stack[0] ?? '').includes('/dist/secure-widget.js');

  window.__lifecycleProbe = {
    /** Pending timers and live listeners (targets still reachable), each marked with whether the library made it. */
    snapshot() {
      const pendingTimers = [...timers.values()].map((timer) => ({ ...timer, library: fromLibrary(timer.stack) }));
      const liveListeners = [];
      for (const record of listeners) {
        if (record.target.deref() === undefined) continue;
        const { target, ...rest } = record;
        liveListeners.push({ ...rest, library: fromLibrary(record.stack) });
      }
      return { timers: pendingTimers, listeners: liveListeners };
    },
  };
})();
