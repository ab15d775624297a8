<?php

declare(strict_types=1);

/*
 * Bench bootstrap: autoloaders (Composer vendor/ when present, else Debian's packages under
 * /usr/share/php), the PSR-4 autoloader for LambdaCache\ -> php/src/, and the extension check.
 */

namespace LcBench;

const EXT_CLASS = 'LambdaCache\\Native\\TmpStore';

function fail(string $message): never
{
    fwrite(STDERR, "bench: error: {$message}\n");
    exit(1);
}

function progress(string $line): void
{
    fwrite(STDERR, $line . "\n");
}

/** Prints the JSON result line, or writes it to --json FILE. */
function emitJson(string $json, ?string $file): void
{
    if ($file === null) {
        echo $json, "\n";
        return;
    }
    if (file_put_contents($file, $json . "\n") === false) {
        fail("cannot write {$file}");
    }
    progress("JSON written to {$file}");
}

/** Environment variable $name as a number in [$min, $max], or $default when unset; fails on anything else. */
function envNumber(string $name, float $default, float $min, float $max): float
{
    $value = getenv($name);
    if ($value === false || $value === '') {
        return $default;
    }
    if (!is_numeric($value) || (float) $value < $min || (float) $value > $max) {
        fail("{$name} must be a number between {$min} and {$max}, got '{$value}'");
    }

    return (float) $value;
}

/** envNumber() for whole numbers. */
function envInt(string $name, int $default, int $min, int $max): int
{
    $value = getenv($name);
    if ($value !== false && $value !== '' && !ctype_digit($value)) {
        fail("{$name} must be a whole number between {$min} and {$max}, got '{$value}'");
    }

    return (int) envNumber($name, $default, $min, $max);
}

/**
 * The FILE of `--json FILE` or `--json=FILE` in $argv, null without; `--help` prints $usage and
 * exits; any other argument fails with $usage.
 */
function jsonArg(array $argv, string $usage): ?string
{
    $file = null;
    for ($i = 1; $i < \count($argv); ++$i) {
        if ($argv[$i] === '--json' && isset($argv[$i + 1])) {
            $file = $argv[++$i];
        } elseif (str_starts_with($argv[$i], '--json=')) {
            $file = substr($argv[$i], 7);
        } elseif ($argv[$i] === '--help' || $argv[$i] === '-h') {
            echo $usage;
            exit(0);
        } else {
            fail("unknown argument {$argv[$i]}\n" . $usage);
        }
    }

    return $file;
}

/**
 * Registers every autoloader the bench needs; returns a description of where classes come from.
 * $symfony = false (dynamo.php) neither loads nor requires symfony/cache.
 */
function bootstrap(string $repoRoot, bool $symfony = true): array
{
    $loaded = [];
    $vendor = $repoRoot . '/vendor/autoload.php';
    if (is_file($vendor)) {
        require_once $vendor;
        $loaded[] = $vendor;
    }
    // Debian's autoload.php files register class maps; Symfony's does not pull in
    // psr/simple-cache (only "suggested"), which Symfony's Psr16Cache needs.
    $debian = [
        '/usr/share/php/Psr/Cache/autoload.php',
        '/usr/share/php/Psr/SimpleCache/autoload.php',
    ];
    if ($symfony) {
        $debian[] = '/usr/share/php/Symfony/Component/Cache/autoload.php';
    }
    foreach ($debian as $file) {
        if (is_file($file)) {
            require_once $file;
            $loaded[] = $file;
        }
    }

    // LambdaCache\Dev\: the tools shared with the tests (dev/); LambdaCache\: the PHP package.
    spl_autoload_register(static function (string $class) use ($repoRoot): void {
        $prefix = 'LambdaCache\\';
        if (strncmp($class, $prefix, \strlen($prefix)) !== 0) {
            return;
        }
        $rest = substr($class, \strlen($prefix));
        $file = str_starts_with($rest, 'Dev\\') ? $repoRoot . '/dev/' . substr($rest, 4) : $repoRoot . '/php/src/' . $rest;
        $file = str_replace('\\', '/', $file) . '.php';
        if (is_file($file)) {
            require $file;
        }
    });

    $required = [
        'Psr\\Cache\\CacheItemPoolInterface' => 'psr/cache (apt install php-psr-cache)',
        'Psr\\SimpleCache\\CacheInterface' => 'psr/simple-cache (apt install php-psr-simple-cache)',
    ];
    if ($symfony) {
        $required['Symfony\\Component\\Cache\\Adapter\\FilesystemAdapter'] = 'symfony/cache (apt install php-symfony-cache)';
    }
    foreach ($required as $class => $package) {
        if (!interface_exists($class) && !class_exists($class)) {
            fail("{$class} not found: install {$package} or run composer install");
        }
    }

    return $loaded;
}

/** Fails with exit 1 unless the extension and the PHP package are usable. */
function checkOurs(string $repoRoot): void
{
    if (!class_exists(EXT_CLASS, false)) {
        fail('the LambdaCache extension is not loaded (class ' . EXT_CLASS . ' missing). Run: '
            . 'php -d extension=' . $repoRoot . '/target/release/liblambda_cache.so '
            . '-d apc.enable_cli=1 -d opcache.enable_cli=1 benches/bench.php');
    }
    foreach (['LambdaCache\\TmpCachePool', 'LambdaCache\\Psr16Cache'] as $class) {
        if (!class_exists($class)) {
            fail("{$class} not found under {$repoRoot}/php/src/ (PSR-4 LambdaCache\\ -> php/src/)");
        }
    }
}

/** Temporary directories under one per-run base directory, removed at exit (even on error). */
final class TempDirs
{
    private string $base;
    private int $seq = 0;
    private static ?self $instance = null;

    public function __construct()
    {
        $this->base = rtrim(sys_get_temp_dir(), '/') . '/lc-bench-' . getmypid() . '-' . bin2hex(random_bytes(4));
        if (!mkdir($this->base, 0700, true)) {
            fail("cannot create {$this->base}");
        }
        self::$instance = $this;
        register_shutdown_function(static function (): void {
            self::$instance?->cleanup();
        });
        if (\function_exists('pcntl_async_signals')) {
            pcntl_async_signals(true);
            foreach ([\SIGINT, \SIGTERM] as $signal) {
                pcntl_signal($signal, static function () { exit(130); });
            }
        }
    }

    public function base(): string
    {
        return $this->base;
    }

    /** A new, empty directory. */
    public function fresh(string $label): string
    {
        $dir = sprintf('%s/%s-%d', $this->base, preg_replace('/[^A-Za-z0-9_-]/', '_', $label), ++$this->seq);
        mkdir($dir, 0700, true);

        return $dir;
    }

    public function cleanup(): void
    {
        if (is_dir($this->base)) {
            self::remove($this->base);
        }
    }

    public static function remove(string $path): void
    {
        if (!is_dir($path) || is_link($path)) {
            @unlink($path);

            return;
        }
        $it = new \RecursiveIteratorIterator(
            new \RecursiveDirectoryIterator($path, \FilesystemIterator::SKIP_DOTS),
            \RecursiveIteratorIterator::CHILD_FIRST
        );
        foreach ($it as $file) {
            $file->isDir() && !$file->isLink() ? @rmdir($file->getPathname()) : @unlink($file->getPathname());
        }
        @rmdir($path);
    }
}
