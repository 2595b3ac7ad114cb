/**
 * `secure-widget/server/redis`: the shared store for several instances of the token handler, on node-redis. Its own
 * entry, so that `secure-widget/server` never requires `redis` (an optional peer). It imports nothing from `redis` at
 * run time either: it speaks to the client the host created, through `sendCommand`.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { MAX_TOKEN_LENGTH } from '../../protocol/limits.js';
import type { RateLimitVerdict } from '../rate-limit.js';
import type { SharedRateLimiter, SharedSingleFlight, SharedTokenStore } from '../shared-store.js';
import type { CachedToken, TokenCache } from '../token-cache.js';
import { createCommands, type RedisStoreClient } from './commands.js';

export type { RedisStoreClient } from './commands.js';

export interface RedisStoreOptions {
  /** A connected node-redis client, one per process: `await createClient({ url }).connect()`. */
  client: RedisStoreClient;
  /** Put before every key, so that several apps (or handlers) can share one Redis. Default `secure-widget:`. */
  prefix?: string;
  /**
   * Secret. When set, keys name a user by HMAC-SHA-256 of their id under this secret rather than by SHA-256: then not
   * even a guess at an id (an email address, a number) can be checked against the keys. Every instance needs the
   * same value.
   */
  keySecret?: string;
  /**
   * How long Redis may stay silent while a command waits, in this process's own time (a busy event loop's delays do
   * not count), before the command is given up and the handler answers without it. Default 200 ms (10 to 5000).
   */
  commandTimeoutMs?: number;
}

const DEFAULT_PREFIX = 'secure-widget:';
const DEFAULT_COMMAND_TIMEOUT_MS = 200;
// A script call that finds its script gone: EVALSHA, SCRIPT LOAD, EVALSHA.
const COMMANDS_OF_LONGEST_CALL = 3;
// What a busy instance adds to a call in wall time while Redis answers: event loop stalls (a long task of 300 ms), a
// machine that runs the process a fraction of the time. Past it, the handler goes on without the store.
const BUSY_INSTANCE_ALLOWANCE_MS = 2_000;
// What marks an entry as this store's: another app's value at the same key is a miss, not a token.
const ENTRY_VERSION = 'secure-widget/1';
// A token of at most MAX_TOKEN_LENGTH, JSON-escaped (at most 6 characters each), and the rest of the entry.
const MAX_ENTRY_LENGTH = MAX_TOKEN_LENGTH * 6 + 256;

/**
 * A token bucket per user, as the in-memory limiter keeps one (rate-limit.ts): `max` at once, refilled at `max` per
 * `windowMs`, atomic because a script runs alone. The bucket lives `windowMs` after its last request, the time it
 * takes to fill up again: a full bucket is no different from none. Returns 0, or the ms until a request is allowed.
 */
const TAKE_SCRIPT = `
local max = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then tokens = max; at = now end
local perMs = max / window
tokens = math.min(max, tokens + math.max(0, now - at) * perMs)
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) / perMs) else tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], window)
return wait
`;

/** Deletes a claim only if it is still this instance's: a lapsed claim may be another instance's by now. */
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * The store for `createTokenHandler({ store: redisStore({ client }) })`: the token cache, the rate limit and the
 * single flight, shared through one Redis by every instance.
 *
 * Keys (with the default prefix): `secure-widget:token:<h>` holds the user's token and its times until the token
 * expires (`EXAT`); `secure-widget:rate:<h>` the user's bucket, until it is full again; `secure-widget:lock:<h>` a
 * random id while one instance calls the vendor for the user (`NX PX`, the handler's `timeoutMs`). `<h>` is the
 * SHA-256 (or, with `keySecret`, the HMAC) of the user id, base64url: Redis never holds a raw user id.
 *
 * Every command is given up once Redis has been silent for `commandTimeoutMs` (commands.ts), and throws on any
 * failure, which the handler turns into its single-instance behaviour; an answer that is not what this store wrote is
 * a miss.
 */
export function redisStore(options: RedisStoreOptions): SharedTokenStore {
  if (typeof options !== 'object' || options === null) throw new TypeError('redisStore: options must be an object');
  const { client, keySecret } = options;
  if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function') {
    throw new TypeError('redisStore: options.client must be a node-redis client (createClient() from "redis")');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses
  if (typeof prefix !== 'string' || prefix.length > 100 || /[\s\u0000-\u001f]/.test(prefix)) {
    throw new TypeError('redisStore: options.prefix must be a string of at most 100 characters without whitespace');
  }
  if (keySecret !== undefined && (typeof keySecret !== 'string' || keySecret.length < 16)) {
    // Never quoted: it is a secret.
    throw new TypeError('redisStore: options.keySecret must be a string of at least 16 characters');
  }
  const timeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeout) || timeout < 10 || timeout > 5000) {
    throw new TypeError('redisStore: options.commandTimeoutMs must be an integer from 10 to 5000 (milliseconds)');
  }
  // node-redis emits 'error' on every lost connection, and an EventEmitter without a listener throws it: the host's
  // process would crash exactly when the store is meant to be optional. A listener of the host's own keeps priority.
  if (typeof client.on === 'function' && (client.listenerCount?.('error') ?? 0) === 0) client.on('error', () => {});

  const userHash = (userId: string): string =>
    (keySecret === undefined ? createHash('sha256') : createHmac('sha256', keySecret))
      .update(userId)
      .digest('base64url');
  const keyOf = (kind: 'token' | 'rate' | 'lock', userId: string): string => `${prefix}${kind}:${userHash(userId)}`;

  const redis = createCommands(client, timeout);

  const cache: TokenCache = {
    async get(userId) {
      return readEntry(await redis.send(['GET', keyOf('token', userId)]));
    },
    async set(userId, entry) {
      const expiresAt = Math.floor(entry.expiresAt);
      const value = JSON.stringify({
        v: ENTRY_VERSION,
        token: entry.token,
        expiresAt: entry.expiresAt,
        issuedAt: entry.issuedAt,
      });
      if (!Number.isSafeInteger(expiresAt) || expiresAt <= 0 || value.length > MAX_ENTRY_LENGTH) return;
      // EXAT: Redis drops the entry the second the token expires, so no token outlives its validity in Redis.
      await redis.send(['SET', keyOf('token', userId), value, 'EXAT', String(expiresAt)]);
    },
  };

  const rateLimit: SharedRateLimiter = {
    async take(userId, { max, windowMs, now }): Promise<RateLimitVerdict> {
      const args = [String(max), String(windowMs), String(Math.floor(now))];
      const wait = await redis.script(TAKE_SCRIPT, [keyOf('rate', userId)], args);
      if (wait === 0) return { allowed: true };
      if (typeof wait === 'number' && Number.isSafeInteger(wait) && wait > 0)
        return { allowed: false, retryAfterMs: wait };
      throw new Error('The rate limit script answered something else than a number of milliseconds.');
    },
  };

  const singleFlight: SharedSingleFlight = {
    async claim(userId, ttlMs) {
      const key = keyOf('lock', userId);
      const owner = randomUUID();
      // Owner-checked, and tried even while the store pauses after a timeout: a claim kept makes every other instance
      // wait for the user's token until it lapses (ttlMs, the handler's whole timeoutMs).
      const release = async (): Promise<void> => {
        await redis.script(RELEASE_SCRIPT, [key], [owner], { duringPause: true });
      };
      const answer = await redis.send(['SET', key, owner, 'NX', 'PX', String(Math.max(1, Math.ceil(ttlMs)))], {
        // Redis made the claim after this store stopped waiting, and this instance went on alone: nobody holds it.
        lateAnswer: (late) => {
          if (late === 'OK') release().catch(() => {});
        },
      });
      if (answer === null) return null;
      if (answer !== 'OK') throw new Error('SET NX answered something else than OK or nil.');
      return release;
    },
  };

  // The handler's own bound on a call, a backstop behind the commands' timeouts: the longest call is a script Redis
  // lost (EVALSHA, SCRIPT LOAD, EVALSHA), each command given up after `timeout` of silence in this process's time,
  // which on a busy instance runs slower than the wall clock the bound counts in.
  return { cache, rateLimit, singleFlight, timeoutMs: COMMANDS_OF_LONGEST_CALL * timeout + BUSY_INSTANCE_ALLOWANCE_MS };
}

/** An entry as `cache.set` wrote it, or undefined: another app's value, a half-written or a junk one is a miss. */
function readEntry(value: unknown): CachedToken | undefined {
  if (typeof value !== 'string' || value.length > MAX_ENTRY_LENGTH) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { v, token, expiresAt, issuedAt } = parsed as Record<string, unknown>;
  if (
    v !== ENTRY_VERSION ||
    typeof token !== 'string' ||
    typeof expiresAt !== 'number' ||
    typeof issuedAt !== 'number'
  ) {
    return undefined;
  }
  // The handler checks the token and the times once more, as for any store's entry.
  return { token, expiresAt, issuedAt };
}
