/**
 * Words that make up the placeholders in vendors' docs, `.env.example` files and config templates: `YOUR_API_KEY`,
 * `<access key>`, `change-me`, `${ACCESS_KEY}`, `Bearer <token>`, `sk_live_xxx`. A value made only of these words is
 * not a key. A real key is random, so one real word is enough to accept it (`sk_live_very_secret_value` passes).
 */
// biome-ignore format: a word list reads best in paragraphs, by kind
const PLACEHOLDER_WORDS = new Set([
  // instructions
  'your', 'my', 'our', 'the', 'a', 'an', 'insert', 'enter', 'put', 'paste', 'add', 'set', 'fill', 'use', 'in', 'here',
  'goes', 'this', 'with', 'own', 'real', 'actual', 'new', 'replace', 'change', 'me', 'it', 'update', 'generate',
  'generated', 'copy', 'from', 'dashboard', 'value', 'string',
  // what the value is called
  'api', 'access', 'secret', 'private', 'public', 'shared', 'signing', 'key', 'keys', 'token', 'tokens', 'id',
  'password', 'passwd', 'pass', 'pwd', 'credential', 'credentials', 'client', 'app', 'application', 'embed', 'vendor',
  'auth', 'jwt', 'hmac', 'bearer', 'basic', 'x', 'sk', 'pk', 'live', 'test', 'dev', 'prod', 'env',
  // placeholders proper
  'changeme', 'changethis', 'replaceme', 'todo', 'fixme', 'tbd', 'example', 'sample', 'placeholder', 'dummy', 'fake',
  'redacted', 'hidden', 'null', 'undefined', 'none', 'nil', 'empty', 'default', 'foo', 'bar', 'baz', 'foobar', 'abc',
  'abc123', '123', '1234', '12345', '123456', '12345678', 'qwerty', 'letmein', 'demo',
]);

/**
 * A template that was never expanded: `${QRVEY_API_KEY}` (a shell, Compose or a JS template string outside backticks),
 * `{{ .Values.apiKey }}` and `${{ secrets.KEY }}` (Helm, Mustache, GitHub Actions), `<your key>`, or a whole value that
 * is a variable's name (`$ACCESS_KEY`, `%ACCESS_KEY%`). Unlike the words below, the variable's name may be anything
 * (`QRVEY_API_KEY` holds `qrvey`), so the template's shape decides. `<…>` counts only around a name, since a generated
 * password may hold `<` and `>`.
 */
const TEMPLATE = /\$\{[^{}]*\}|\{\{[^{}]*\}\}|<[\w .-]+>|^\$[A-Za-z_]\w*$|^%\w+%$/;

/** True when `value` holds an unexpanded template ({@link TEMPLATE}): for values that are not secrets too, a URL. */
export function hasUnexpandedTemplate(value: string): boolean {
  return TEMPLATE.test(value.trim());
}

/**
 * True for an empty or whitespace value, for an unexpanded template (`${ACCESS_KEY}`, `{{apiKey}}`) and for a
 * placeholder that was pasted instead of a key: nothing but placeholder words, runs of one character (`xxxx`, `0000`)
 * and punctuation (`****`). Internal to the server side: shared by the exchanges and `signToken`.
 */
export function isPlaceholderSecret(value: string): boolean {
  if (hasUnexpandedTemplate(value)) return true;
  const words = value
    // camelCase and PascalCase templates (`yourApiKey`, `YourAccessKey`, `APIKey`) are words too.
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
  return words.every((word) => PLACEHOLDER_WORDS.has(word) || /^(.)\1+$/.test(word));
}
