<?php

// Autoloading for the examples: Composer's when installed, else Debian's PSR packages and the
// package's own classes.
$root = dirname(__DIR__);
if (is_file($root . '/vendor/autoload.php')) {
    require $root . '/vendor/autoload.php';
} else {
    require_once '/usr/share/php/Psr/Cache/autoload.php';
    require_once '/usr/share/php/Psr/SimpleCache/autoload.php';
    spl_autoload_register(static function (string $class) use ($root): void {
        if (str_starts_with($class, 'LambdaCache\\')) {
            $file = $root . '/php/src/' . str_replace('\\', '/', substr($class, 12)) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    });
}
if (!extension_loaded('lambda_cache')) {
    fwrite(STDERR, "The lambda_cache extension is not loaded: run with php -d extension=target/release/liblambda_cache.so\n");
    exit(1);
}
