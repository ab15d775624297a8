<?php

/*
 * Autoloading for the PHPUnit suite and for the child processes the suite starts.
 *
 * LAMBDA_CACHE_PSR selects which PSR interface versions are loaded:
 *   1 (default): Composer's vendor/ when present, then Debian's psr/cache and psr/simple-cache 1.0
 *   2, 3:        the psr/cache and psr/simple-cache 2.0 / 3.0 declarations in php-tests/fixtures/
 *
 * This file only registers autoloaders; it has no other side effects.
 */

declare(strict_types=1);

(static function (): void {
    $root = dirname(__DIR__);
    $psr = getenv('LAMBDA_CACHE_PSR');
    $psr = ($psr === false || $psr === '') ? '1' : $psr;
    if (!in_array($psr, ['1', '2', '3'], true)) {
        fwrite(STDERR, "LambdaCache tests: LAMBDA_CACHE_PSR must be 1, 2 or 3, got '{$psr}'\n");
        exit(1);
    }
    if (!defined('LAMBDA_CACHE_TEST_PSR')) {
        define('LAMBDA_CACHE_TEST_PSR', (int) $psr);
    }

    if ($psr === '1') {
        if (is_file($root . '/vendor/autoload.php')) {
            require_once $root . '/vendor/autoload.php';
        }
        foreach (['/usr/share/php/Psr/Cache/autoload.php', '/usr/share/php/Psr/SimpleCache/autoload.php'] as $file) {
            if (!is_file($file)) {
                fwrite(STDERR, "LambdaCache tests: {$file} is missing (apt-get install php-psr-cache php-psr-simple-cache)\n");
                exit(1);
            }
            require_once $file;
        }
    } else {
        $fixtures = __DIR__ . '/fixtures';
        $dirs = [
            'Psr\\Cache\\' => "{$fixtures}/psr-cache-{$psr}/",
            'Psr\\SimpleCache\\' => "{$fixtures}/psr-simple-cache-{$psr}/",
        ];
        // Prepended, so that the fixtures win over any psr/* package in vendor/.
        spl_autoload_register(static function (string $class) use ($dirs): void {
            foreach ($dirs as $prefix => $dir) {
                if (strncmp($class, $prefix, strlen($prefix)) === 0) {
                    $file = $dir . substr($class, strlen($prefix)) . '.php';
                    if (is_file($file)) {
                        require $file;
                    }
                    return;
                }
            }
        }, true, true);
        if (is_file($root . '/vendor/autoload.php')) {
            require_once $root . '/vendor/autoload.php';
        }
    }

    $map = [
        'LambdaCache\\Tests\\' => __DIR__ . '/',
        'LambdaCache\\' => $root . '/php/src/',
    ];
    spl_autoload_register(static function (string $class) use ($map): void {
        foreach ($map as $prefix => $dir) {
            if (strncmp($class, $prefix, strlen($prefix)) === 0) {
                $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
                if (is_file($file)) {
                    require $file;
                }
                return;
            }
        }
    });
})();
