import 'secure-widget';
import {
  afterNextRender,
  type AfterViewInit,
  Component,
  CUSTOM_ELEMENTS_SCHEMA,
  ElementRef,
  inject,
  Renderer2,
  REQUEST_CONTEXT,
  signal,
  viewChild,
} from '@angular/core';
import type { SecureWidgetErrorDetail, SecureWidgetTokenDetail } from 'secure-widget';
import type { WidgetContext } from './widget-context';

@Component({
  selector: 'app-root',
  // <secure-widget> and the vendor's <demo-widget> are custom elements, not Angular components.
  schemas: [CUSTOM_ELEMENTS_SCHEMA],
  template: `
    <h1>secure-widget in Angular</h1>

    <secure-widget
      #widget
      token-endpoint="/api/widget-token"
      [attr.defer-hydration]="hydrated() ? null : ''"
      (secure-widget-ready)="status.set('ready')"
      (secure-widget-error)="onError($event)"
      (secure-widget-token)="onToken($event)"
    >
      <demo-widget community-id="42" data-user-id="u1"></demo-widget>
    </secure-widget>

    <p id="widget-state">
      Widget: <output id="status">{{ status() }}</output>, tokens received: <output id="tokens">{{ tokens() }}</output>,
      first from: <output id="first-source">{{ firstSource() }}</output>
    </p>
  `,
})
export class App implements AfterViewInit {
  /** server.ts's values for this render; null in the browser. */
  private readonly context = inject(REQUEST_CONTEXT, { optional: true }) as WidgetContext | null;
  private readonly renderer = inject(Renderer2);
  private readonly widget = viewChild.required<ElementRef<HTMLElement>>('widget');

  /** The element starts once Angular has hydrated the page: until then it keeps defer-hydration and does nothing. */
  protected readonly hydrated = signal(false);
  protected readonly status = signal('waiting');
  protected readonly tokens = signal(0);
  protected readonly firstSource = signal('none');

  constructor() {
    afterNextRender(() => this.hydrated.set(true));
  }

  /**
   * On the server, the token and the bundle URL are written straight into the rendered element, outside Angular's
   * bindings: hydration keeps attributes it does not bind as the server rendered them, whereas a binding would be
   * evaluated again in the browser, where there is no request context. The token travels in the HTML only.
   */
  ngAfterViewInit(): void {
    if (!this.context) return;
    const element = this.widget().nativeElement;
    this.renderer.setAttribute(element, 'bundle-url', this.context.bundleUrl);
    if (this.context.embedToken) this.renderer.setAttribute(element, 'embed-token', this.context.embedToken);
  }

  protected onToken(event: Event): void {
    const { source } = (event as CustomEvent<SecureWidgetTokenDetail>).detail;
    this.tokens.update((count) => count + 1);
    if (this.tokens() === 1) this.firstSource.set(source);
  }

  protected onError(event: Event): void {
    this.status.set(`error: ${(event as CustomEvent<SecureWidgetErrorDetail>).detail.code}`);
  }
}
