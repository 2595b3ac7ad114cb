import { defineEnvVars } from '@sveltejs/kit/env';

// Server-side only ($app/env/private), read when the server starts, never inlined into a bundle. Optional to the build
// (`vite build` runs the app's modules, and secrets have no business on a build machine);
// src/lib/server/widget-token.ts refuses to answer without them.
const optional = (value: string | undefined) => value;

export const variables = defineEnvVars({
  WIDGET_VENDOR_TOKEN_URL: {
    schema: optional,
    description: "The vendor's token API, where the access key is exchanged",
  },
  WIDGET_BUNDLE_URL: { schema: optional, description: "The vendor's widget bundle (widget.js)" },
  WIDGET_ACCESS_ID: { schema: optional, description: 'The access id the vendor gave this site' },
  WIDGET_ACCESS_KEY: { schema: optional, description: 'The secret access key the vendor gave this site' },
});
