<?php

/*
 * Autoloading for the PHPUnit suite and for the child processes the suite starts.
 *
 * LAMBDA_CACHE_PSR selects which PSR interface versions are loaded:
 *   1 (default): Composer's vendor/ when present, then Debian's psr/cache and psr/simple-cache 1.0
 *   2, 3:        the psr/cache and psr/simple-cache 2.0 / 3.0 declarations in php-tests/fixtures/
 *   system:      whatever the system has (Composer's vendor/ when present, then the packages in
 *                /usr/share/php, e.g. Debian 13's 3.0), never the fixtures; the version (1, 2 or
 *                3) is read from the interfaces' signatures and must be the same for both
 *   system:N:    the same, and the version found must be N (else the run stops here)
 * LAMBDA_CACHE_TEST_PSR is then the interface version loaded (an int) and LAMBDA_CACHE_TEST_PSR_MODE
 * the setting ('1', '2', '3', 'system' or 'system:N').
 *
 * This file only registers autoloaders (in system mode it also loads the two PSR interfaces it
 * reads the version from); it has no other side effects.
 */

declare(strict_types=1);

(static function (): void {
    $root = dirname(__DIR__);
    $psr = getenv('LAMBDA_CACHE_PSR');
    $psr = ($psr === false || $psr === '') ? '1' : $psr;
    if (!in_array($psr, ['1', '2', '3', 'system', 'system:1', 'system:2', 'system:3'], true)) {
        fwrite(STDERR, "LambdaCache tests: LAMBDA_CACHE_PSR must be 1, 2, 3, system or system:1|2|3, got '{$psr}'\n");
        exit(1);
    }
    $system = str_starts_with($psr, 'system');

    if ($psr === '1' || $system) {
        if (is_file($root . '/vendor/autoload.php')) {
            require_once $root . '/vendor/autoload.php';
        }
        foreach (['/usr/share/php/Psr/Cache/autoload.php', '/usr/share/php/Psr/SimpleCache/autoload.php'] as $file) {
            if (is_file($file)) {
                require_once $file;
            } elseif (!$system || !is_file($root . '/vendor/autoload.php')) {
                fwrite(STDERR, "LambdaCache tests: {$file} is missing (apt-get install php-psr-cache php-psr-simple-cache)\n");
                exit(1);
            }
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

    $version = (int) $psr;
    if ($system) {
        // 1.0 declares no types, 2.0 parameter types only, 3.0 return types too.
        $detect = static function (string $interface, string $method) use ($psr): int {
            if (!interface_exists($interface)) {
                fwrite(STDERR, "LambdaCache tests: LAMBDA_CACHE_PSR={$psr}: {$interface} is not installed\n");
                exit(1);
            }
            $m = new \ReflectionMethod($interface, $method);
            if ($m->hasReturnType()) {
                return 3;
            }
            return $m->getNumberOfParameters() > 0 && $m->getParameters()[0]->hasType() ? 2 : 1;
        };
        $cache = $detect('Psr\\Cache\\CacheItemInterface', 'set');
        $simple = $detect('Psr\\SimpleCache\\CacheInterface', 'get');
        if ($cache !== $simple) {
            fwrite(STDERR, "LambdaCache tests: LAMBDA_CACHE_PSR={$psr}: psr/cache {$cache}.0 and psr/simple-cache {$simple}.0 are"
                . " installed; the suite tests one version of both at a time\n");
            exit(1);
        }
        $version = $cache;
        $wanted = substr($psr, strlen('system:'));
        if ($wanted !== '' && (int) $wanted !== $version) {
            fwrite(STDERR, "LambdaCache tests: LAMBDA_CACHE_PSR={$psr}, but the system's psr/cache and psr/simple-cache are {$version}.0\n");
            exit(1);
        }
    }
    if (!defined('LAMBDA_CACHE_TEST_PSR')) {
        define('LAMBDA_CACHE_TEST_PSR', $version);
        define('LAMBDA_CACHE_TEST_PSR_MODE', $psr);
    }

    $map = [
        'LambdaCache\\Tests\\' => __DIR__ . '/',
        'LambdaCache\\Dev\\' => $root . '/dev/', // shared with benches/ (dev/README.md)
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
