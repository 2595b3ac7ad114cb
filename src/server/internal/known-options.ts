/**
 * Refuses an option nobody reads. A misspelt option (`allowedOrigin`, `expiresIn` for `ttl`, `timeout` for
 * `timeoutMs`) would otherwise be ignored without a word, and the host would run with the default it meant to change:
 * a rate limit it thought was off, a token that lives longer than it set. Internal: each public function names its own.
 */
export function refuseUnknownOptions<Options>(
  caller: string,
  options: object,
  /** Every option, as a record so that the compiler holds it to the options type: none missing, none extra. */
  known: Record<keyof Options, true>,
  path = 'options',
): void {
  const names = Object.keys(known);
  for (const name of Object.keys(options)) {
    // An option set to undefined is no option, as for the known ones: a conditional spread may leave one.
    if (Object.hasOwn(known, name) || (options as Record<string, unknown>)[name] === undefined) continue;
    const near = nearest(name, names);
    throw new TypeError(
      `${caller}: ${path}.${safeName(name)} is not an option${near ? `; did you mean ${near}?` : ''} ` +
        `(the options are ${names.join(', ')})`,
    );
  }
}

/**
 * A name goes into a message only if it looks like an option's, letters only and short (every option here is one):
 * an object spread from the environment may bring its secrets' values in as keys.
 */
function safeName(name: string): string {
  return /^[A-Za-z]{1,24}$/.test(name) ? name : '…';
}

/** The known option closest to `name` (case aside, at most a third of its letters apart), if any. */
function nearest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: { option: string; distance: number } | undefined;
  for (const option of known) {
    const distance = editDistance(lower, option.toLowerCase());
    if (distance <= Math.max(1, Math.floor(option.length / 3)) && (!best || distance < best.distance)) {
      best = { option, distance };
    }
  }
  return best?.option;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
