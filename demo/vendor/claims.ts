// Shared by the signer (Node) and the widget (browser bundle), so both sides check exactly what the other sets.
export const VENDOR_ISSUER = 'reference-vendor';
export const VENDOR_AUDIENCE = 'secure-widget-demo';
export const VENDOR_ALGORITHM = 'ES256';
// The `typ` header the issuer sets (RFC 8725 §3.11, explicit typing). The vendor's key signs one kind of token only, so
// the generic type is specific enough; a vendor signing several kinds with one key must give each its own type.
export const VENDOR_TOKEN_TYPE = 'JWT';
