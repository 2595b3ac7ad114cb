import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

let bundle: Promise<string> | null = null;

/**
 * The widget is built on first request rather than ahead of time, so the demo and the tests need no build step;
 * the result is kept for the life of the process because the source does not change under a running server.
 */
export function widgetBundle(): Promise<string> {
  bundle ??= buildWidget().catch((error: unknown) => {
    // A failed build is not cached: the next request tries again instead of serving the failure forever.
    bundle = null;
    throw error;
  });
  return bundle;
}

async function buildWidget(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./widget.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error('esbuild produced no output for the widget bundle');
  return output.text;
}
