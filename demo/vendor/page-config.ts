/**
 * The config the vendor's server writes into each of its pages (`<script type="application/json" id="vendor-config">`):
 * which host origins may embed the page and talk to it.
 */
export function readAllowedOrigins(): string[] {
  const text = document.getElementById('vendor-config')?.textContent ?? '';
  try {
    const config: unknown = JSON.parse(text);
    const origins =
      typeof config === 'object' && config !== null
        ? (config as { allowedOrigins?: unknown }).allowedOrigins
        : undefined;
    // Only the shape here: connectToHost checks each entry, so that a broken config is reported rather than thrown.
    return Array.isArray(origins) ? (origins as string[]) : [];
  } catch {
    return [];
  }
}
