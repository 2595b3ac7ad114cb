import { css } from '@lit/reactive-element';

// One rule a line, without the spaces a minifier would take out: css`` text ships as written.
export const styles = css`
:host{display:block}
:host([hidden]){display:none}
[part=frame]{display:block;width:100%;height:150px;border:0}
[part=frame][hidden]{display:none}
[part=error]{margin:0;padding:.75em 1em;border:1px solid currentColor;border-radius:.5em;opacity:.75;font:inherit}
`;
