// Server only: the token endpoint's handler (server/api/widget-token.ts), made on first use from the runtime config,
// so that neither `nuxt build` nor the build output ever holds the access key.
import { accessKeyExchange, createTokenHandler } from 'secure-widget/server';

type Handler = (request: Request) => Promise<Response>;
let handler: Handler | undefined;

export function widgetTokenHandler(config: {
  widgetVendorTokenUrl: string;
  widgetAccessId: string;
  widgetAccessKey: string;
}): Handler {
  handler ??= createTokenHandler({
    // Your own session check: the user, or null (401). This demo has one user; read your session cookie here.
    authorize: () => ({ id: 'u1' }),
    issue: accessKeyExchange({
      url: config.widgetVendorTokenUrl,
      accessId: config.widgetAccessId,
      accessKey: config.widgetAccessKey,
    }),
  });
  return handler;
}
