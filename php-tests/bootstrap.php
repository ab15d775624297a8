<?php

/*
 * PHPUnit bootstrap: autoloading (see autoload.php), a loud failure when the extension is not
 * loaded, and the path of the loaded extension for the child processes that tests start
 * (env LAMBDA_CACHE_SO, constant LAMBDA_CACHE_SO).
 */

declare(strict_types=1);

require __DIR__ . '/autoload.php';

error_reporting(E_ALL);

if (!extension_loaded('lambda_cache')) {
    fwrite(STDERR, "LambdaCache tests: the lambda_cache extension is not loaded.\n"
        . "Run: php -d extension=\$PWD/target/release/liblambda_cache.so /usr/bin/phpunit -c phpunit.xml.dist\n"
        . "(or `make test`)\n");
    exit(1);
}

(static function (): void {
    $so = getenv('LAMBDA_CACHE_SO');
    if ($so === false || $so === '') {
        // Not given: find the mapped shared object of the running process.
        $so = '';
        $maps = @file_get_contents('/proc/self/maps');
        if (is_string($maps) && preg_match('~\s(/\S*lambda_cache[^/\s]*\.so)$~m', $maps, $m) === 1) {
            $so = $m[1];
        }
    }
    if ($so !== '' && !is_file($so)) {
        fwrite(STDERR, "LambdaCache tests: LAMBDA_CACHE_SO={$so} is not a file\n");
        exit(1);
    }
    if ($so !== '') {
        putenv('LAMBDA_CACHE_SO=' . $so);
    }
    define('LAMBDA_CACHE_SO', $so);
})();
