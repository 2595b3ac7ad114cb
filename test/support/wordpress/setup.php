<?php
/**
 * Installs the test's WordPress from the command line, as an administrator would through wp-admin: the site, a
 * subscriber (the visitor), the test theme, the secure-widget plugin activated, and a published post whose content
 * is one Custom HTML block with SW_WP_BLOCK_FILE in it. Prints {"post": id}.
 */

declare(strict_types=1);

$url = getenv('SW_WP_URL');
$_SERVER['HTTP_HOST'] = parse_url($url, PHP_URL_HOST) . ':' . parse_url($url, PHP_URL_PORT);
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);

// Pluggable: the install would mail the administrator, and there is no mail here.
function wp_new_blog_notification(): void
{
}

require getenv('SW_WP_ROOT') . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

function fail(string $what, mixed $error): never
{
    fwrite(STDERR, $what . ': ' . (is_wp_error($error) ? $error->get_error_message() : var_export($error, true)) . "\n");
    exit(1);
}

$installed = wp_install('secure-widget test', 'admin', 'admin@example.test', false, '', getenv('SW_WP_ADMIN_PASSWORD'));
$visitor = wp_insert_user([
    'user_login' => 'visitor',
    'user_pass' => getenv('SW_WP_VISITOR_PASSWORD'),
    'user_email' => 'visitor@example.test',
    'role' => 'subscriber',
]);
if (is_wp_error($visitor)) fail('the visitor', $visitor);

switch_theme('secure-widget-test');
$activated = activate_plugin('secure-widget/secure-widget.php');
if (is_wp_error($activated)) fail('activating the plugin', $activated);

// As the administrator: a <script> in a Custom HTML block takes the unfiltered_html capability, which kses checks.
wp_set_current_user((int) $installed['user_id']);
$block = file_get_contents(getenv('SW_WP_BLOCK_FILE'));
$post = wp_insert_post([
    'post_title' => 'A post with the widget',
    'post_content' => "<!-- wp:html -->\n{$block}\n<!-- /wp:html -->",
    'post_status' => 'publish',
], true);
if (is_wp_error($post)) fail('the post', $post);

echo json_encode(['post' => $post]);
