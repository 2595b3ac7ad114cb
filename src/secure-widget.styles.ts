import { css } from 'lit';

export const styles = css`
  :host {
    display: block;
  }
  :host([hidden]) {
    display: none;
  }
  [part='error'] {
    margin: 0;
    padding: 0.75em 1em;
    border: 1px solid currentColor;
    border-radius: 0.5em;
    opacity: 0.75;
    font: inherit;
  }
`;
