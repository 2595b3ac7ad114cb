<?php
/**
 * The token endpoint of docs/endpoint.md in plain PHP 8.2: no framework, no Composer, no extension beyond the
 * defaults (json, openssl for an https vendor). It does what secure-widget/server's createTokenHandler does, minus the
 * cache and the rate limit: refuse what is not a token request from this site, ask the host's session who the user
 * is, exchange the access id and key for an embed token at the vendor, answer {"embedToken", "expiresAt"}.
 *
 * Configuration, from the server's environment (never from the page, the request or the repository):
 *   WIDGET_VENDOR_TOKEN_URL   the vendor's token API, e.g. https://vendor.example/v2/api/widget-access-keys/token
 *   WIDGET_ACCESS_ID          the access id
 *   WIDGET_ACCESS_KEY         the secret access key: sent to the vendor only, never in an answer or a log line
 *   WIDGET_VENDOR_TIMEOUT_MS  the vendor call's deadline, default 5000 (the element gives up after 10 s)
 *   WIDGET_DEMO_USER          demo only: every visitor without a session is this user. Never set it in production.
 *
 * Use it through router.php (php -S), from a WordPress REST route (README.md), or from any front controller:
 *   require __DIR__ . '/widget-token.php';
 *   widget_token_send(widget_token_answer($_SERVER, 'widget_token_authorize'));
 *
 * No per-user cache: APCu is not in Debian's php-cli by default, and a temp-file cache would put bearer tokens in a
 * directory other sites' PHP may read on shared hosting. Every request makes one vendor call; add a private cache
 * (APCu, Redis) that serves a token only while more than half its life is left (docs/endpoint.md, "Caching per user").
 */

declare(strict_types=1);

/** The longest token the element accepts (src/protocol/limits.ts, MAX_TOKEN_LENGTH). */
const WIDGET_TOKEN_MAX_TOKEN = 16 * 1024;
/** The most of the vendor's answer read: a JSON envelope around the longest token (MAX_TOKEN_BODY). */
const WIDGET_TOKEN_MAX_BODY = WIDGET_TOKEN_MAX_TOKEN + 4096;
/** The element sends no body; anything bigger than this is not a token request. */
const WIDGET_TOKEN_MAX_REQUEST_BODY = 1024;
const WIDGET_TOKEN_DEFAULT_TIMEOUT_MS = 5000;
const WIDGET_TOKEN_ALLOWED_METHODS = 'GET, POST';

/** The same codes and fixed messages as secure-widget/server: never the vendor's body, a token or a key. */
const WIDGET_TOKEN_ERRORS = [
    'method-not-allowed' => [405, 'Use GET or POST.'],
    'payload-too-large' => [413, 'A token request has no body to speak of.'],
    'cross-site' => [403, 'Token requests from other sites are refused.'],
    'unauthorized' => [401, 'Sign in to load this widget.'],
    'internal' => [500, 'Internal server error.'],
    'vendor-failed' => [502, 'The widget vendor could not issue a token.'],
    'vendor-timeout' => [504, 'The widget vendor did not answer in time.'],
];

/**
 * Who is asking: a user id, or null for 401 (and the vendor is not called). The one place to plug in your session.
 *
 * In WordPress, pass your own instead (README.md): fn () => is_user_logged_in() ? 'wp:' . get_current_user_id() : null
 * (or wp_get_current_user()->ID). Here: a PHP session that your login wrote `user_id` into, else the demo user.
 */
function widget_token_authorize(): ?string
{
    // Only an existing session is read: a request without the cookie must not create one.
    if (isset($_COOKIE[session_name()]) && session_status() === PHP_SESSION_NONE) {
        session_start(['read_and_close' => true, 'use_strict_mode' => true, 'use_only_cookies' => true]);
        $user = $_SESSION['user_id'] ?? null;
        if ((is_string($user) && $user !== '') || is_int($user)) {
            return (string) $user;
        }
    }
    $demo = getenv('WIDGET_DEMO_USER');
    return is_string($demo) && $demo !== '' ? $demo : null;
}

/**
 * The answer to one request, as data: ['status' => int, 'headers' => [name => value], 'body' => string]. Pure apart
 * from the vendor call and $authorize, so a framework can turn it into its own response object.
 *
 * The checks run cheapest first, and each refusal comes before the next step's work, as in
 * src/server/token-handler.ts: a cross-site request never reaches $authorize, a signed-out one never the vendor.
 *
 * @param array<string, mixed> $server $_SERVER, or a framework's equivalent
 * @param callable(): (string|null) $authorize
 * @return array{status: int, headers: array<string, string>, body: string}
 */
function widget_token_answer(array $server, callable $authorize): array
{
    $method = $server['REQUEST_METHOD'] ?? 'GET';
    if ($method !== 'GET' && $method !== 'POST') {
        return widget_token_error('method-not-allowed', ['Allow' => WIDGET_TOKEN_ALLOWED_METHODS]);
    }
    if ((int) ($server['CONTENT_LENGTH'] ?? 0) > WIDGET_TOKEN_MAX_REQUEST_BODY) {
        return widget_token_error('payload-too-large', ['Connection' => 'close']);
    }
    if (!widget_token_same_site($server)) {
        return widget_token_error('cross-site');
    }
    try {
        $user = $authorize();
    } catch (Throwable) {
        widget_token_log('internal');
        return widget_token_error('internal');
    }
    if ($user === null || $user === '') {
        return widget_token_error('unauthorized');
    }

    $config = widget_token_config();
    if ($config === null) {
        // The deploy is wrong, not the request: the same answer as a failing vendor, and a log line naming no value.
        widget_token_log('issuer-misconfigured: set WIDGET_VENDOR_TOKEN_URL, WIDGET_ACCESS_ID, WIDGET_ACCESS_KEY');
        return widget_token_error('vendor-failed');
    }
    $issued = widget_token_exchange($config);
    if (isset($issued['error'])) {
        widget_token_log($issued['error'], $issued['status'] ?? null);
        return widget_token_error($issued['error'] === 'vendor-timeout' ? 'vendor-timeout' : 'vendor-failed');
    }
    $body = ['embedToken' => $issued['token']];
    if ($issued['expiresAt'] !== null) {
        $body['expiresAt'] = $issued['expiresAt'];
    }
    return widget_token_json(200, $body);
}

/** Sends an answer of widget_token_answer() with PHP's own header() and echo. */
function widget_token_send(array $answer): void
{
    http_response_code($answer['status']);
    header_remove('X-Powered-By');
    foreach ($answer['headers'] as $name => $value) {
        header("$name: $value");
    }
    echo $answer['body'];
}

/**
 * Whether a browser says this request comes from another site: the rules of src/server/request-guard.ts, with no
 * allowed origins. Sec-Fetch-Site cannot be forged by a page and is trusted first (so a proxy that changes the scheme
 * this server sees does not matter); without it, a foreign Origin is refused; a request with neither (curl, a server,
 * an old browser's same-origin GET) passes, since no browser is acting for another site.
 */
function widget_token_same_site(array $server): bool
{
    $site = $server['HTTP_SEC_FETCH_SITE'] ?? null;
    $origin = $server['HTTP_ORIGIN'] ?? null;
    if ($site === 'cross-site') {
        return false;
    }
    if ($site === 'same-origin' || $site === 'none') {
        return true;
    }
    if ($origin === null) {
        // A sibling subdomain (same-site) may host user content: refused unless it is this very origin.
        return $site !== 'same-site';
    }
    return $origin === widget_token_own_origin($server);
}

/** This request's own origin as a browser writes it in Origin: scheme, lower-case host, port unless the default. */
function widget_token_own_origin(array $server): string
{
    $https = !empty($server['HTTPS']) && strtolower((string) $server['HTTPS']) !== 'off';
    $scheme = $https ? 'https' : 'http';
    $host = strtolower((string) ($server['HTTP_HOST'] ?? ''));
    $defaultPort = $https ? ':443' : ':80';
    if (str_ends_with($host, $defaultPort)) {
        $host = substr($host, 0, -strlen($defaultPort));
    }
    return "$scheme://$host";
}

/**
 * The vendor settings from the environment, or null when one is missing or the URL would send the key in the clear:
 * https, or http to a loopback host only (the rule the element applies to its own URLs).
 *
 * @return array{url: string, accessId: string, accessKey: string, timeoutMs: int}|null
 */
function widget_token_config(): ?array
{
    $url = getenv('WIDGET_VENDOR_TOKEN_URL');
    $accessId = getenv('WIDGET_ACCESS_ID');
    $accessKey = getenv('WIDGET_ACCESS_KEY');
    if (!is_string($url) || !is_string($accessId) || !is_string($accessKey)) {
        return null;
    }
    if (trim($accessId) === '' || trim($accessKey) === '') {
        return null;
    }
    $parts = parse_url($url);
    $scheme = strtolower($parts['scheme'] ?? '');
    $host = strtolower(trim($parts['host'] ?? '', '[]'));
    $loopback = in_array($host, ['localhost', '127.0.0.1', '::1'], true);
    if (isset($parts['user']) || !($scheme === 'https' || ($scheme === 'http' && $loopback))) {
        return null;
    }
    $timeoutMs = (int) (getenv('WIDGET_VENDOR_TIMEOUT_MS') ?: WIDGET_TOKEN_DEFAULT_TIMEOUT_MS);
    return [
        'url' => $url,
        'accessId' => trim($accessId),
        'accessKey' => trim($accessKey),
        'timeoutMs' => max(100, min($timeoutMs, 9000)),
    ];
}

/**
 * POST {accessId, accessKey} to the vendor, expect {data: {embedToken}}. One deadline for the whole call, redirects
 * never followed (the body holds the key), the answer read no further than WIDGET_TOKEN_MAX_BODY bytes.
 *
 * @return array{token: string, expiresAt: int|null}|array{error: string, status?: int}
 */
function widget_token_exchange(array $config): array
{
    $deadline = hrtime(true) + $config['timeoutMs'] * 1_000_000;
    $context = stream_context_create([
        'http' => [
            'method' => 'POST',
            'header' => "Content-Type: application/json\r\nAccept: application/json\r\nConnection: close\r\n",
            'content' => json_encode(['accessId' => $config['accessId'], 'accessKey' => $config['accessKey']]),
            'timeout' => $config['timeoutMs'] / 1000,
            'follow_location' => 0,
            // A 4xx/5xx is read as an answer, not a failure to open, so its status can be logged.
            'ignore_errors' => true,
        ],
    ]);
    // @: PHP's warning would name the URL and could reach the page with display_errors on; the status says enough.
    $stream = @fopen($config['url'], 'rb', false, $context);
    if ($stream === false) {
        return ['error' => hrtime(true) >= $deadline ? 'vendor-timeout' : 'vendor-unreachable'];
    }
    try {
        $headers = stream_get_meta_data($stream)['wrapper_data'] ?? [];
        $status = widget_token_status($headers);
        if ($status !== 200) {
            // A redirect (3xx) is not followed: it lands here as a failure, and the key goes nowhere else.
            return ['error' => 'vendor-failed', 'status' => $status];
        }
        $declared = widget_token_header($headers, 'content-length');
        if ($declared !== null && (int) $declared > WIDGET_TOKEN_MAX_BODY) {
            return ['error' => 'vendor-response', 'status' => $status];
        }
        $body = '';
        while (!feof($stream)) {
            $left = intdiv($deadline - hrtime(true), 1000);
            if ($left <= 0) {
                return ['error' => 'vendor-timeout'];
            }
            stream_set_timeout($stream, intdiv($left, 1_000_000), $left % 1_000_000);
            $chunk = fread($stream, 8192);
            if (stream_get_meta_data($stream)['timed_out']) {
                return ['error' => 'vendor-timeout'];
            }
            if ($chunk === false) {
                return ['error' => 'vendor-unreachable'];
            }
            $body .= $chunk;
            if (strlen($body) > WIDGET_TOKEN_MAX_BODY) {
                return ['error' => 'vendor-response', 'status' => $status];
            }
        }
    } finally {
        fclose($stream);
    }

    $json = json_decode($body, true, 8);
    $token = is_array($json) && is_array($json['data'] ?? null) ? ($json['data']['embedToken'] ?? null) : null;
    $token = is_string($token) ? trim($token) : '';
    // What the element would refuse anyway (docs/element.md, "Token rules"): refused here, as a vendor failure.
    if ($token === '' || strlen($token) > WIDGET_TOKEN_MAX_TOKEN || !preg_match('#^[A-Za-z0-9._~+/=:-]+$#', $token)) {
        return ['error' => 'vendor-response', 'status' => $status];
    }
    return ['token' => $token, 'expiresAt' => widget_token_jwt_exp($token)];
}

/** The `exp` of a JWT, in epoch seconds, or null for an opaque token (the element then waits for the vendor's word). */
function widget_token_jwt_exp(string $token): ?int
{
    $parts = explode('.', $token);
    if (count($parts) !== 3) {
        return null;
    }
    $payload = base64_decode(strtr($parts[1], '-_', '+/'), true);
    $claims = $payload === false ? null : json_decode($payload, true, 8);
    $exp = is_array($claims) ? ($claims['exp'] ?? null) : null;
    return (is_int($exp) || is_float($exp)) && is_finite((float) $exp) && $exp > 0 ? (int) $exp : null;
}

/** The status of the last response in the wrapper's header lines (the only one, since redirects are not followed). */
function widget_token_status(array $headers): int
{
    $status = 0;
    foreach ($headers as $line) {
        if (preg_match('~^HTTP/\S+\s+(\d{3})~', (string) $line, $match)) {
            $status = (int) $match[1];
        }
    }
    return $status;
}

function widget_token_header(array $headers, string $name): ?string
{
    foreach ($headers as $line) {
        [$key, $value] = array_pad(explode(':', (string) $line, 2), 2, null);
        if ($value !== null && strtolower(trim($key)) === $name) {
            return trim($value);
        }
    }
    return null;
}

/** @return array{status: int, headers: array<string, string>, body: string} */
function widget_token_error(string $code, array $extraHeaders = []): array
{
    [$status, $message] = WIDGET_TOKEN_ERRORS[$code];
    return widget_token_json($status, ['error' => ['code' => $code, 'message' => $message]], $extraHeaders);
}

/** @return array{status: int, headers: array<string, string>, body: string} */
function widget_token_json(int $status, array $body, array $extraHeaders = []): array
{
    return [
        'status' => $status,
        'headers' => [
            'Content-Type' => 'application/json; charset=utf-8',
            // A token is a bearer credential: no browser cache, proxy or back/forward cache may keep it, nor an error.
            'Cache-Control' => 'no-store',
            'Pragma' => 'no-cache',
            'X-Content-Type-Options' => 'nosniff',
            // The element measures the token's life against this clock, not the browser's (docs/endpoint.md).
            'Date' => gmdate('D, d M Y H:i:s') . ' GMT',
        ] + $extraHeaders,
        'body' => json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR),
    ];
}

/** One line per failure: the code and the vendor's HTTP status, never a token, a key or the vendor's body. */
function widget_token_log(string $code, ?int $status = null): void
{
    $vendorStatus = $status !== null && $status >= 100 && $status <= 599 ? " (vendor status $status)" : '';
    error_log("secure-widget: token request failed: $code$vendorStatus");
}
