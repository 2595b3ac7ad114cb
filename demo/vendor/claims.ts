// Shared by the signer (Node) and the widget (browser bundle), so both sides check exactly what the other sets.
export const VENDOR_ISSUER = 'reference-vendor';
export const VENDOR_AUDIENCE = 'secure-widget-demo';
export const VENDOR_ALGORITHM = 'ES256';
