// The token endpoint: createTokenHandler is a Web-standard (Request) => Response handler, which is what a Route
// Handler is. A Route Handler answers only the methods it exports (anything else is 405 from Next.js), and the
// element may use either: export it as both GET and POST.
import { widgetTokenHandler } from '../../../lib/widget-token';

const handler = (request: Request) => widgetTokenHandler()(request);

export { handler as GET, handler as POST };
