/**
 * This process's own time, to judge whether Redis answered in time: wall time less what the event loop ran late
 * meanwhile. A loop busy for 300 ms (a long synchronous task), or a process the machine did not run, leaves answers
 * unread on the socket and commands unwritten: that wait was on this process, not on Redis ("Redis did not answer
 * within 200 ms" was once logged for replies already on the socket). On a loaded machine every deadline stretches
 * with it, so a silent Redis is noticed later there: the price of never blaming Redis for this process's own delays.
 *
 * While anyone waits, a timer ticks every TICK_MS, and whatever a tick fires late by is added up. Portable: timers
 * and `performance.now()` only (where the clock stands still while code runs, as in workerd, nothing counts as late).
 */

/** A moment on two clocks: the wall's, and the running total of the event loop's lateness. */
export interface Moment {
  at: number;
  loopDelay: number;
}

// Fine enough to see a loop turn of tens of ms; a tick costs next to nothing, and only while something waits.
const TICK_MS = 20;

let counted = 0;
let holders = 0;
let dueAt = 0;
let ticker: ReturnType<typeof setTimeout> | undefined;

const overdue = (): number => (holders > 0 ? Math.max(0, performance.now() - dueAt) : 0);

function scheduleTick(): void {
  dueAt = performance.now() + TICK_MS;
  ticker = setTimeout(() => {
    counted += overdue();
    scheduleTick();
  }, TICK_MS);
  // A process with nothing else to do may exit while a store still hangs.
  ticker.unref?.();
}

/** Keeps the ticks going until the function it returns is called. */
function hold(): () => void {
  if (holders++ === 0) scheduleTick();
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (holders === 1) {
      counted += overdue();
      clearTimeout(ticker);
    }
    holders -= 1;
  };
}

export function currentMoment(): Moment {
  return { at: performance.now(), loopDelay: counted + overdue() };
}

/** Ms of this process's time from `since` to `until`. */
export function processTimeSince(since: Moment, until: Moment = currentMoment()): number {
  return until.at - since.at - (until.loopDelay - since.loopDelay);
}

/**
 * Calls `expire` once `ms` of this process's time have passed since `since()`, which is read anew at each verdict (a
 * caller may restart its clock: an answer to an earlier command). Each verdict waits for pending I/O to be read:
 * after a busy loop, timers run before the I/O that arrived meanwhile, and a zero-delay timer set in a timer runs
 * after the loop's next poll phase, once that answer has had its chance. Returns a function that cancels.
 */
export function expireAfterProcessTime(ms: number, since: () => Moment, expire: () => void): () => void {
  const letGo = hold();
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const judge = (): void => {
    const left = ms - processTimeSince(since());
    if (left > 0) {
      arm(left);
      return;
    }
    done = true;
    letGo();
    expire();
  };
  const arm = (delay: number): void => {
    timer = setTimeout(() => {
      timer = setTimeout(judge, 0);
      timer.unref?.();
    }, delay);
    timer.unref?.();
  };
  arm(ms);
  return () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    letGo();
  };
}
