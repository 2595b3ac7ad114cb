// The token endpoint. createTokenHandler is a Web-standard (Request) => Response handler: h3 hands it the request as
// a Web Request (toWebRequest) and sends the Response it returns as it is. It answers GET and POST itself (405 for
// the rest), which is why this file has no .get/.post suffix.
import { defineEventHandler, toWebRequest } from 'h3';
import { widgetTokenHandler } from '../utils/widget-token';

export default defineEventHandler((event) => widgetTokenHandler(useRuntimeConfig(event))(toWebRequest(event)));
