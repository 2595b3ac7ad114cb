import { RenderMode, ServerRoute } from '@angular/ssr';

export const serverRoutes: ServerRoute[] = [
  {
    path: '**',
    // Rendered for each request: a prerendered page would carry one token, minted at build time, for everyone.
    renderMode: RenderMode.Server,
  },
];
