<?php
/**
 * The PHP example's router for PHP's built-in server:
 *
 *   php -S 127.0.0.1:8080 router.php
 *
 *   GET /api/widget-token                the token endpoint (widget-token.php)
 *   GET /                                index.html, the page with the tag
 *   GET /dist/secure-widget.classic.js   the element as a classic script, from the repository's dist/ (npm run build)
 *
 * Everything else is 404: the router never falls through to php -S's static file server, so neither this directory's
 * PHP source nor anything beside it is served. In production, put your web server's own static files and routes in
 * its place; only the endpoint is the example's point.
 */

declare(strict_types=1);

require __DIR__ . '/widget-token.php';

// The page names this URL; WIDGET_BUNDLE_URL points it at another vendor (the default is the demo's, `npm start`).
const EXAMPLE_DEFAULT_BUNDLE_URL = 'http://127.0.0.1:5173/vendor/widget.js';
const EXAMPLE_CLASSIC_SCRIPT = __DIR__ . '/../../../dist/secure-widget.classic.js';

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
header_remove('X-Powered-By');

switch ($path) {
    case '/api/widget-token':
        widget_token_send(widget_token_answer($_SERVER, 'widget_token_authorize'));
        break;

    case '/':
    case '/index.html':
        $bundleUrl = getenv('WIDGET_BUNDLE_URL') ?: EXAMPLE_DEFAULT_BUNDLE_URL;
        $page = file_get_contents(__DIR__ . '/index.html');
        header('Content-Type: text/html; charset=utf-8');
        header('Cache-Control: no-cache');
        echo str_replace(
            'bundle-url="' . EXAMPLE_DEFAULT_BUNDLE_URL . '"',
            'bundle-url="' . htmlspecialchars($bundleUrl, ENT_QUOTES) . '"',
            $page,
        );
        break;

    case '/dist/secure-widget.classic.js':
        if (!is_file(EXAMPLE_CLASSIC_SCRIPT)) {
            http_response_code(404);
            header('Content-Type: text/plain; charset=utf-8');
            echo "dist/secure-widget.classic.js is missing: run `npm run build` in the repository first.\n";
            break;
        }
        header('Content-Type: text/javascript; charset=utf-8');
        header('Cache-Control: no-cache');
        header('X-Content-Type-Options: nosniff');
        readfile(EXAMPLE_CLASSIC_SCRIPT);
        break;

    default:
        http_response_code(404);
        header('Content-Type: text/plain; charset=utf-8');
        echo "Not found\n";
}
