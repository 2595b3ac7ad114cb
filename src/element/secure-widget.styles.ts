import { unsafeCSS } from '@lit/reactive-element';

// One rule a line, without the spaces a minifier would take out: the text ships as written. unsafeCSS of our own
// constant is what css`` would make of it (nothing is interpolated, so there is nothing to be unsafe about), and it
// is the one of the two that ReactiveElement's bundle already carries: the css tag would add its checks of
// interpolated values, a function and a long message, to the all-in builds.
export const styles = unsafeCSS(`
:host{display:block}
:host([hidden]){display:none}
[part=frame]{display:block;width:100%;height:150px;border:0}
[part=frame][hidden]{display:none}
[part=error]{margin:0;padding:.75em 1em;border:1px solid currentColor;border-radius:.5em;opacity:.75;font:inherit}
`);
