/**
 * The demo's timelines: one small SVG per widget of token fetches, expiries, errors and reloads, drawn from the
 * element's public events only, as any host page could.
 */
import type { SecureWidgetEventMap } from '../src/element/events.js';
import { clock } from './clock.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
/** A few minutes: with the demo's 60 s tokens, half a dozen renewals. */
const TIMELINE_SPAN_MS = 3 * 60_000;
const TIMELINE_TICK_MS = 30_000;
/** Far more than a few minutes of a healthy widget makes; bounds the memory of one that fails in a fast loop. */
const TIMELINE_MARK_LIMIT = 300;
const TIMELINE_WIDTH = 400;
const PLOT_LEFT = 56;
const PLOT_RIGHT = TIMELINE_WIDTH - 8;
const LANE_GAP = 15;
const FIRST_LANE_Y = 10;

/** How a mark looks; each shape belongs to one lane. */
type MarkShape = 'token' | 'shared' | 'expiry' | 'reload' | 'ready' | 'error' | 'fatal';
/** `widget`: what the vendor widget went through, its first `ready` and each reload. */
type Lane = 'token' | 'widget' | 'error';

const LANES: readonly { lane: Lane; label: string }[] = [
  { lane: 'token', label: 'tokens' },
  { lane: 'widget', label: 'widget' },
  { lane: 'error', label: 'errors' },
];
const LANE_OF: Record<MarkShape, Lane> = {
  token: 'token',
  shared: 'token',
  ready: 'widget',
  expiry: 'widget',
  reload: 'widget',
  error: 'error',
  fatal: 'error',
};
/** The lane a mark is found by (`data-kind`): the event it stands for. */
const KIND_OF: Record<MarkShape, string> = {
  token: 'token',
  shared: 'token',
  ready: 'ready',
  expiry: 'reload',
  reload: 'reload',
  error: 'error',
  fatal: 'error',
};
const AXIS_Y = FIRST_LANE_Y + LANES.length * LANE_GAP - 4;
const TIMELINE_HEIGHT = AXIS_Y + 14;

interface TimelineMark {
  shape: MarkShape;
  /** Local-clock ms. */
  at: number;
  /** What the mark's tooltip says: the event's name and its log line. */
  text: string;
}

export function markShapeOf(event: CustomEvent): MarkShape {
  switch (event.type) {
    case 'secure-widget-token':
      // `endpoint`: this widget's own request; `shared` and `markup` came without one.
      return (event as SecureWidgetEventMap['secure-widget-token']).detail.source === 'endpoint' ? 'token' : 'shared';
    case 'secure-widget-reload':
      return (event as SecureWidgetEventMap['secure-widget-reload']).detail.reason === 'expired' ? 'expiry' : 'reload';
    case 'secure-widget-error':
      return (event as SecureWidgetEventMap['secure-widget-error']).detail.fatal ? 'fatal' : 'error';
    default:
      return 'ready';
  }
}

/** The last few minutes of one widget's events, now at the right edge, one lane per kind of event. */
export class WidgetTimeline {
  readonly figure: SVGSVGElement;
  readonly #marks: TimelineMark[] = [];
  readonly #layer: SVGGElement;
  readonly #summary: SVGDescElement;

  constructor(widgetId: string, label: string) {
    const id = `timeline-${widgetId}`;
    this.figure = svg('svg', {
      class: 'timeline',
      viewBox: `0 0 ${TIMELINE_WIDTH} ${TIMELINE_HEIGHT}`,
      role: 'img',
      'aria-labelledby': `${id}-title ${id}-desc`,
      'data-timeline': widgetId,
    });
    const title = svg('title', { id: `${id}-title` });
    title.textContent = `${label}: the element's events over the last ${TIMELINE_SPAN_MS / 60_000} minutes`;
    this.#summary = svg('desc', { id: `${id}-desc` });
    this.figure.append(title, this.#summary, this.#grid());
    this.#layer = svg('g', { class: 'timeline__marks' });
    this.figure.append(this.#layer);
    this.draw(Date.now());
  }

  add(mark: TimelineMark): void {
    this.#marks.push(mark);
    if (this.#marks.length > TIMELINE_MARK_LIMIT) this.#marks.splice(0, this.#marks.length - TIMELINE_MARK_LIMIT);
    this.draw(mark.at);
  }

  draw(now: number): void {
    const since = now - TIMELINE_SPAN_MS;
    const firstShown = this.#marks.findIndex((mark) => mark.at >= since);
    this.#marks.splice(0, firstShown === -1 ? this.#marks.length : firstShown);
    this.#layer.replaceChildren(
      ...this.#marks.map((mark) => {
        const x = PLOT_RIGHT - ((now - mark.at) / TIMELINE_SPAN_MS) * (PLOT_RIGHT - PLOT_LEFT);
        return drawMark(mark, x, laneY(LANE_OF[mark.shape]));
      }),
    );
    this.#summary.textContent = summarize(this.#marks);
  }

  /** Lane lines and labels, and the minutes: fixed, since the axis is relative to now. */
  #grid(): SVGGElement {
    const grid = svg('g', { class: 'timeline__grid' });
    for (const { lane, label } of LANES) {
      const y = laneY(lane);
      grid.append(svg('line', { class: 'timeline__lane', x1: PLOT_LEFT, x2: PLOT_RIGHT, y1: y, y2: y }));
      grid.append(text(label, { class: 'timeline__label', x: 0, y: y + 3.5 }));
    }
    for (let ago = TIMELINE_SPAN_MS; ago >= 0; ago -= TIMELINE_TICK_MS) {
      const x = PLOT_RIGHT - (ago / TIMELINE_SPAN_MS) * (PLOT_RIGHT - PLOT_LEFT);
      grid.append(svg('line', { class: 'timeline__tick', x1: x, x2: x, y1: FIRST_LANE_Y - 6, y2: AXIS_Y }));
      // Whole minutes are labelled; the half minutes between them are only ticks.
      if (ago % 60_000 !== 0) continue;
      const anchor = ago === 0 ? 'end' : ago === TIMELINE_SPAN_MS ? 'start' : 'middle';
      const label = ago === 0 ? 'now' : `−${ago / 60_000} min`;
      grid.append(text(label, { class: 'timeline__axis', x, y: AXIS_Y + 11, 'text-anchor': anchor }));
    }
    return grid;
  }
}

function laneY(lane: Lane): number {
  return FIRST_LANE_Y + LANES.findIndex((entry) => entry.lane === lane) * LANE_GAP;
}

/** One mark, centred on (x, y), with its event as a tooltip. */
function drawMark(mark: TimelineMark, x: number, y: number): SVGGElement {
  const group = svg('g', {
    class: `timeline__mark timeline__mark--${mark.shape}`,
    'data-kind': KIND_OF[mark.shape],
    'data-shape': mark.shape,
    transform: `translate(${x.toFixed(1)} ${y})`,
  });
  const tooltip = svg('title', {});
  tooltip.textContent = `${clock.format(mark.at)} ${mark.text}`;
  group.append(tooltip, markGlyph(mark.shape));
  return group;
}

/** A mark's glyph, centred on (0, 0): circles for tokens and ready, diamonds for reloads, crosses for errors. */
function markGlyph(shape: MarkShape): SVGElement {
  switch (shape) {
    case 'token':
    case 'shared':
    case 'ready':
      return svg('circle', { r: 4 });
    case 'expiry':
    case 'reload':
      return svg('path', { d: 'M0 -5 L5 0 L0 5 L-5 0 Z' });
    case 'error':
      return svg('path', { d: 'M-3.5 -3.5 L3.5 3.5 M3.5 -3.5 L-3.5 3.5' });
    case 'fatal':
      return svg('rect', { x: -4, y: -4, width: 8, height: 8 });
  }
}

/** The timeline in words, for whoever cannot see it: how many of each kind, and the latest. */
function summarize(marks: readonly TimelineMark[]): string {
  const span = `the last ${TIMELINE_SPAN_MS / 60_000} minutes`;
  if (marks.length === 0) return `No events in ${span}.`;
  const count = (...shapes: MarkShape[]) => marks.filter((mark) => shapes.includes(mark.shape)).length;
  const latest = marks.at(-1)!;
  return (
    `In ${span}: ${count('token', 'shared')} tokens (${count('token')} fetched), ` +
    `${count('expiry')} reloads on expiry, ${count('reload')} manual reloads, ${count('ready')} ready, ` +
    `${count('error', 'fatal')} errors. Latest: ${latest.text.split(' · ')[0]} at ${clock.format(latest.at)}.`
  );
}

/** The legend's icons, drawn with the marks' own glyphs so that the two cannot disagree. */
export function drawLegend(): void {
  for (const item of document.querySelectorAll<HTMLElement>('.legend [data-mark]')) {
    const shape = item.dataset.mark as MarkShape;
    if (!(shape in LANE_OF)) continue;
    const icon = svg('svg', { class: 'legend__icon', viewBox: '-6 -6 12 12', 'aria-hidden': 'true' });
    const mark = svg('g', { class: `timeline__mark timeline__mark--${shape}` });
    mark.append(markGlyph(shape));
    icon.append(mark);
    item.prepend(icon);
  }
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  return node;
}

function text(content: string, attributes: Record<string, string | number>): SVGTextElement {
  const node = svg('text', attributes);
  node.textContent = content;
  return node;
}
