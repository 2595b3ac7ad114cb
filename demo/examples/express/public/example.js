// What the example page shows beside its widget: the element's status, where its first token came from, and how many
// requests the page made to the token endpoint (from Resource Timing, so nothing here wraps fetch or sees a token).
const widget = document.querySelector('secure-widget');
const endpoint = new URL(widget.getAttribute('token-endpoint'), location.href).href;
const field = (id) => document.getElementById(id);
const SOURCES = { markup: 'the page (embed-token)', endpoint: 'the token endpoint', shared: 'another widget' };

const showStatus = () => {
  field('status').textContent = widget.getAttribute('status') ?? 'loading';
};
new MutationObserver(showStatus).observe(widget, { attributes: true, attributeFilter: ['status'] });

let firstSource = null;
widget.addEventListener('secure-widget-token', (event) => {
  firstSource ??= event.detail.source;
  field('source').textContent = SOURCES[firstSource] ?? firstSource;
});

let requests = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.name === endpoint) requests += 1;
  field('requests').textContent = String(requests);
}).observe({ type: 'resource', buffered: true });
