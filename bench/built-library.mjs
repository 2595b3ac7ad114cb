// The build the browser benchmarks measure: dist/, or the folder SECURE_WIDGET_DIST names (another build, to
// compare against).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = process.env.SECURE_WIDGET_DIST
  ? pathToFileURL(`${resolve(process.env.SECURE_WIDGET_DIST)}/`)
  : new URL('../dist/', import.meta.url);

/**
 * The named files of the build, in order. When one is missing, says so for `benchmark` and exits with `exitCode`: a
 * benchmark of nothing is a failed measurement, never a figure.
 */
export function readBuiltFiles(benchmark, names, exitCode) {
  try {
    return names.map((name) => readFileSync(new URL(name, dist)));
  } catch (error) {
    console.error(`${benchmark} benchmark: no built library (${error.message}); run \`npm run build\` first`);
    process.exit(exitCode);
  }
}
