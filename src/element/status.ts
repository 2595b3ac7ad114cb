/** `<secure-widget status="…">`: what the widget is doing, for styling and for scripts. */
export const WidgetStatus = {
  loading: 'loading',
  ready: 'ready',
  refreshing: 'refreshing',
  error: 'error',
} as const;
export type WidgetStatus = (typeof WidgetStatus)[keyof typeof WidgetStatus];
