<!doctype html>
<html <?php language_attributes(); ?>>
<head>
<meta charset="<?php bloginfo('charset'); ?>">
<?php wp_head(); ?>
</head>
<body>
<?php
while (have_posts()) {
    the_post();
    the_title('<h1>', '</h1>');
    the_content();
}
wp_footer();
?>
</body>
</html>
