<?php
/**
 * Plugin Name: secure-widget token endpoint
 * Description: The token endpoint for <secure-widget> blocks: the signed-in user's embed token from the vendor, with the access key from the server's environment.
 * Requires PHP: 8.2
 *
 * wp-content/plugins/secure-widget/ holds this file, widget-token.php (demo/examples/php/, unchanged) and
 * secure-widget.classic.js (the repository's dist/). A Custom HTML block then points its tag at
 * /wp-admin/admin-ajax.php?action=secure_widget_token (block.html).
 *
 * admin-ajax, not a REST route: WordPress's REST API ignores the login cookie on a request without a `wp_rest` nonce,
 * and a Custom HTML block is static HTML that cannot print one. admin-ajax reads the login cookie as every admin page
 * does; the endpoint's own check (Sec-Fetch-Site, else Origin) refuses other sites' requests, which is the job the
 * nonce would do.
 */

declare(strict_types=1);

if (!defined('ABSPATH')) {
    exit; // Loaded by WordPress only.
}

require_once __DIR__ . '/widget-token.php';

/** GET /wp-admin/admin-ajax.php?action=secure_widget_token: the answers of docs/endpoint.md, 401 when signed out. */
function secure_widget_token_ajax(): void
{
    // WordPress is the session: the user id is all the vendor is told, and nothing in the request chooses it.
    $user = fn (): ?string => is_user_logged_in() ? 'wp:' . get_current_user_id() : null;
    // header() replaces admin-ajax's own Content-Type and Cache-Control with the endpoint's.
    widget_token_send(widget_token_answer($_SERVER, $user));
    exit;
}

add_action('wp_ajax_secure_widget_token', 'secure_widget_token_ajax');
// Signed-out visitors get the endpoint's 401 (the block shows its error slot), not admin-ajax's bare "0".
add_action('wp_ajax_nopriv_secure_widget_token', 'secure_widget_token_ajax');
