<?php
/**
 * wp-config.php of the WordPress that test/server/example-wordpress.test.ts installs: Debian's WordPress
 * (/usr/share/wordpress, copied into a temporary folder), with this file in place of Debian's, which reads its
 * settings from /etc/wordpress. Everything here comes from the environment the test starts `php` with.
 */

define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
// The test's own MariaDB, on a Unix socket in the temporary folder (no TCP port).
define('DB_HOST', 'localhost:' . getenv('SW_WP_DB_SOCKET'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');

foreach (['AUTH', 'SECURE_AUTH', 'LOGGED_IN', 'NONCE'] as $name) {
    define("{$name}_KEY", getenv('SW_WP_SALT') . "-{$name}-key");
    define("{$name}_SALT", getenv('SW_WP_SALT') . "-{$name}-salt");
}

$table_prefix = 'wp_';

define('WP_HOME', getenv('SW_WP_URL'));
define('WP_SITEURL', getenv('SW_WP_URL'));
// No internet here: WordPress must not wait on api.wordpress.org (the plugin's own vendor call is not WordPress's).
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_DEBUG', false);

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
