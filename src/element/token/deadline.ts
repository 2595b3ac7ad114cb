/**
 * setTimeout stores its delay in a signed 32-bit integer: a longer one fires at once. The one home of that bound.
 */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * No refresh or retry is ever due sooner than this after the last: a token that says it lives a millisecond, or an
 * endpoint that fails at once, costs at most one request a second, never a loop. A token must live at least this long
 * to be used at all.
 */
export const MIN_REFRESH_DELAY = 1_000;

/**
 * One timer aimed at an absolute time on the local clock. A deadline beyond setTimeout's range is reached in clamped
 * steps, each re-armed, so a 30-day token never fires at once; a deadline in the past fires on the next turn.
 * DOM-free, so it runs under a fake clock.
 */
export class Deadline {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #at: number | null = null;

  /** When it fires, or null while unset. */
  get at(): number | null {
    return this.#at;
  }

  /** Aims at `at` (replacing any earlier aim) and calls `fire` once it is reached. */
  set(at: number, fire: () => void): void {
    this.clear();
    this.#at = at;
    const arm = () => {
      const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_DELAY);
      this.#timer = setTimeout(() => {
        if (Date.now() < at) return arm();
        this.#timer = undefined;
        this.#at = null;
        fire();
      }, delay);
    };
    arm();
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = null;
  }
}
