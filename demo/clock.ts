/** How the demo prints a moment: hours, minutes and seconds on a 24-hour clock, in the visitor's locale. */
export const clock = new Intl.DateTimeFormat(undefined, {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});
