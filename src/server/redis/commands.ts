/**
 * The Redis store's commands: each one sent through the host's node-redis client, given up when Redis has been silent
 * for the command timeout (and only then), and scripts run by digest.
 */
import { createHash } from 'node:crypto';
import { currentMoment, expireAfterProcessTime, type Moment } from '../internal/process-time.js';

/**
 * What the store needs of a node-redis client (v5 or v6, `createClient()`), connected by the host. Structural, so
 * that a client with modules or scripts of its own fits as well.
 */
export interface RedisStoreClient {
  sendCommand(args: readonly string[], options?: { abortSignal?: AbortSignal }): Promise<unknown>;
  /** node-redis's own: false while (re)connecting, when a command would only wait in the offline queue. */
  readonly isReady?: boolean;
  on?(event: 'error', listener: (error: unknown) => void): unknown;
  listenerCount?(event: 'error'): number;
}

// After a command times out, the store sends nothing for this long, or until a late answer shows that Redis is there:
// every request would otherwise wait out the timeout again, several times (cache, rate limit, claim), while Redis is
// gone.
const PAUSE_AFTER_TIMEOUT_MS = 1_000;

export interface SendOptions {
  /**
   * Sent even while the store pauses after a timeout. For letting go of a claim: a claim kept costs every other
   * instance a wait for the user's token.
   */
  duringPause?: boolean;
  /** Told of an answer that arrived after the store gave up on the command: Redis ran it all the same. */
  lateAnswer?: (answer: unknown) => void;
}

export interface Commands {
  send(args: readonly string[], options?: SendOptions): Promise<unknown>;
  /** EVALSHA, after a SCRIPT LOAD when Redis does not know the script (first use, or a Redis that restarted). */
  script(source: string, keys: readonly string[], args: readonly string[], options?: SendOptions): Promise<unknown>;
}

/**
 * A command is given up when Redis has been silent for `timeout` ms of this process's time while the command waited,
 * judged once pending I/O has been read (internal/process-time.ts):
 * - silent: every answer to this store restarts the clock of the commands still waiting, since Redis answers a
 *   connection in order, and an answer means that the commands behind it are on their way (node-redis writes a burst
 *   16 KiB at a time, a loop turn each);
 * - this process's time: whatever the event loop ran late meanwhile is not Redis's delay. A loop busy for 300 ms, or a
 *   process the machine did not run, leaves replies unread on the socket and commands unwritten.
 * node-redis's own `timeout` option cannot stand in: it ends only a command that is still queued, and its timer
 * (`AbortSignal.timeout`) decides as soon as it fires. Its `abortSignal` is what takes a queued command out.
 */
export function createCommands(client: RedisStoreClient, timeout: number): Commands {
  let quietUntil = -Infinity;
  let lastHeard: Moment = { at: -Infinity, loopDelay: 0 };

  const send = (args: readonly string[], { duringPause = false, lateAnswer }: SendOptions = {}): Promise<unknown> => {
    // Both fail at once rather than after the timeout: a client that is reconnecting, and a Redis that just timed out.
    if (client.isReady === false) return Promise.reject(new Error('The Redis client is not connected.'));
    if (!duringPause && performance.now() < quietUntil)
      return Promise.reject(new Error('Redis timed out a moment ago.'));
    const controller = new AbortController();
    let answer: Promise<unknown>;
    try {
      answer = client.sendCommand(args, { abortSignal: controller.signal });
    } catch (error) {
      return Promise.reject(error);
    }
    const sent = currentMoment();
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        stopClock();
        return true;
      };
      const stopClock = expireAfterProcessTime(
        timeout,
        () => (lastHeard.at > sent.at ? lastHeard : sent),
        () => {
          if (!settle()) return;
          quietUntil = performance.now() + PAUSE_AFTER_TIMEOUT_MS;
          controller.abort();
          reject(new Error(`Redis did not answer within ${timeout} ms.`));
        },
      );
      answer.then(
        (value) => {
          lastHeard = currentMoment();
          if (settle()) {
            resolve(value);
            return;
          }
          // Slow, not gone: the next request may try again rather than go on alone for the rest of the pause.
          quietUntil = -Infinity;
          lateAnswer?.(value);
        },
        (error: unknown) => {
          // Once the store has given up, a late rejection has nobody to tell (and may be node-redis's own, for the
          // command the abort took out of its queue).
          if (!settle()) return;
          lastHeard = currentMoment();
          reject(error);
        },
      );
    });
  };

  const digests = new Map<string, string>();
  const digest = (source: string): string => {
    let sha = digests.get(source);
    if (sha === undefined) digests.set(source, (sha = createHash('sha1').update(source).digest('hex')));
    return sha;
  };
  // One SCRIPT LOAD for every request that found the script missing at once (a burst after a restart). Sent even
  // during a pause: it follows a NOSCRIPT, an answer Redis has just given.
  const loading = new Map<string, Promise<unknown>>();
  const load = (source: string): Promise<unknown> => {
    let loaded = loading.get(source);
    if (loaded === undefined) {
      loaded = send(['SCRIPT', 'LOAD', source], { duringPause: true }).finally(() => loading.delete(source));
      loading.set(source, loaded);
    }
    return loaded;
  };
  return {
    send,
    async script(source, keys, args, options) {
      const call = ['EVALSHA', digest(source), String(keys.length), ...keys, ...args];
      try {
        return await send(call, options);
      } catch (error) {
        if (!String((error as { message?: unknown } | null)?.message).startsWith('NOSCRIPT')) throw error;
        await load(source);
        return send(call, options);
      }
    },
  };
}
