import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Format } from 'esbuild';

/**
 * The vendor's browser scripts are built on first request rather than ahead of time, so the demo and the tests need no
 * build step; each result is kept for the life of the process because the source does not change under a running
 * server.
 */
function cachedBundle(entry: string, format: Format): () => Promise<string> {
  let bundle: Promise<string> | null = null;
  return () => {
    bundle ??= buildBundle(entry, format).catch((error: unknown) => {
      // A failed build is not cached: the next request tries again instead of serving the failure forever.
      bundle = null;
      throw error;
    });
    return bundle;
  };
}

/** The bundle widget: a classic script (IIFE), since hosts load it with a plain `<script src>`. */
export const widgetBundle = cachedBundle('./widget.ts', 'iife');

/** The config-object widget (Qrvey style): a classic script too, loaded the same way. */
export const configWidgetBundle = cachedBundle('./config-widget.ts', 'iife');

/** The iframe page's script: a module, loaded by the vendor's own frame.html with `<script type="module">`. */
export const framePageBundle = cachedBundle('./frame-page.ts', 'esm');

/** The relay page's script (debug.html): a module too, for the "expire now" support hook of debug-hook.ts. */
export const debugPageBundle = cachedBundle('./debug-page.ts', 'esm');

async function buildBundle(entry: string, format: Format): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format,
    platform: 'browser',
    target: 'es2020',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  const [output] = result.outputFiles;
  if (!output) throw new Error(`esbuild produced no output for ${entry}`);
  return output.text;
}
