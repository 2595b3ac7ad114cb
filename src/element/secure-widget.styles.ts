import { css } from 'lit';

export const styles = css`
  :host {
    display: block;
  }
  :host([hidden]) {
    display: none;
  }
  [part='frame'] {
    display: block;
    width: 100%;
    height: 150px;
    border: 0;
  }
  [part='frame'][hidden] {
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
