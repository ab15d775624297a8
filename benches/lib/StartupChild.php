<?php

declare(strict_types=1);

/*
 * The child process of benches/startup.php: one fresh `php -n` process per run, as Bref's function
 * runtime starts one per invocation. It does what an application's first cache read does, and
 * prints one JSON line: hrtime marks (CLOCK_MONOTONIC, the parent's clock too) at script start,
 * after the autoloaders, after the pool's constructor and after the first getItem() hit, its own
 * peak RSS (VmHWM) and whether the hit was right.
 *
 *   php -n -d extension=<so> StartupChild.php tmp DIR KEY          first /tmp hit (TmpCachePool)
 *   php -n [curl] -d extension=<so> StartupChild.php ours TABLE KEY first DynamoDB hit, ours
 *   php -n [curl] StartupChild.php plain TABLE KEY                  first DynamoDB hit, plain ext-curl client
 *   ... StartupChild.php prepare DIR TABLE KEY WARM                  writes the items (ours and plain), warms the emulator
 *   ... StartupChild.php cleanup TABLE                               deletes the table
 *
 * DynamoDB modes read LAMBDA_CACHE_DYNAMODB_ENDPOINT and the AWS_* variables.
 */

namespace LcBench\Startup;

$marks = [hrtime(true)];

const PLAIN_NAMESPACE = 'plain';

/** The cached value: a 200-byte string, the same in every process. */
function value(): string
{
    return substr(str_repeat('LambdaCache start-up bench value. ', 7), 0, 200);
}

/** What an application's bootstrap does: Composer's autoloader, or Debian's PSR class maps, plus LambdaCache\ (PSR-4, php/src/). */
function registerAutoloaders(string $root): void
{
    if (is_file($root . '/vendor/autoload.php')) {
        require_once $root . '/vendor/autoload.php';
    } elseif (is_file('/usr/share/php/Psr/Cache/autoload.php')) {
        require_once '/usr/share/php/Psr/Cache/autoload.php';
    }
    $src = $root . '/php/src/';
    spl_autoload_register(static function (string $class) use ($src): void {
        if (str_starts_with($class, 'LambdaCache\\')) {
            $file = $src . str_replace('\\', '/', substr($class, 12)) . '.php';
            if (is_file($file)) {
                require $file;
            }
        }
    });
}

function endpoint(): string
{
    $endpoint = getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT');
    if (!\is_string($endpoint) || $endpoint === '') {
        throw new \RuntimeException('LAMBDA_CACHE_DYNAMODB_ENDPOINT is not set');
    }

    return $endpoint;
}

function ours(string $table): \LambdaCache\DynamoDbCachePool
{
    return new \LambdaCache\DynamoDbCachePool(table: $table, endpoint: endpoint());
}

function plain(string $table): \LcBench\PlainDynamoPool
{
    require_once __DIR__ . '/PlainDynamoClient.php';
    require_once __DIR__ . '/PlainDynamoPool.php';

    return new \LcBench\PlainDynamoPool(\LcBench\PlainDynamoClient::fromEnvironment(endpoint()), $table, PLAIN_NAMESPACE);
}

/** Null when the pool returns the value as saved, else what went wrong. */
function checkHit(\Psr\Cache\CacheItemPoolInterface $pool, string $key): ?string
{
    $item = $pool->getItem($key);
    if (!$item->isHit()) {
        return "getItem('{$key}') missed";
    }

    return $item->get() === value() ? null : "getItem('{$key}') returned a wrong value";
}

function peakRssKb(): int
{
    $status = @file_get_contents('/proc/self/status');

    return \is_string($status) && preg_match('/^VmHWM:\s+(\d+)\s+kB/m', $status, $m) ? (int) $m[1] : -1;
}

/** Writes the key through every pool, checks it reads back, then warms the emulator with GetItems. */
function prepare(string $root, string $dir, string $table, string $key, int $warm): array
{
    $done = [];
    $tmp = new \LambdaCache\TmpCachePool(directory: $dir);
    $pools = ['tmp' => $tmp];
    if ($table !== '-') {
        $failures = \LcBench\SigV4::selfTest();
        if ($failures !== []) {
            throw new \RuntimeException('plain client SigV4 self-test failed: ' . implode('; ', $failures));
        }
        $ours = ours($table);
        $done['create_table'] = $ours->createTable();
        $pools += ['ours' => $ours, 'plain' => plain($table)];
    }
    foreach ($pools as $name => $pool) {
        if ($pool->save($pool->getItem($key)->set(value())) !== true) {
            throw new \RuntimeException("{$name}: save() returned false");
        }
        if (($error = checkHit($pool, $key)) !== null) {
            throw new \RuntimeException("{$name}: {$error} right after save()");
        }
    }
    $t0 = hrtime(true);
    for ($i = 0; $i < $warm && $table !== '-'; ++$i) {
        foreach (['ours', 'plain'] as $name) {
            if (($error = checkHit($pools[$name], $key)) !== null) {
                throw new \RuntimeException("{$name}: {$error} during the emulator warm-up");
            }
        }
    }
    $done['warm_requests'] = $table !== '-' ? 2 * $warm : 0;
    $done['warm_seconds'] = round((hrtime(true) - $t0) / 1e9, 3);
    $done['curl'] = \function_exists('curl_version') ? (string) (curl_version()['version'] ?? '?') : null;

    return $done;
}

function main(array $argv, array $marks): int
{
    $root = \dirname(__DIR__, 2);
    $warning = null;
    set_error_handler(static function (int $level, string $message) use (&$warning): bool {
        $warning ??= $message;

        return true;
    });
    $mode = $argv[1] ?? '';
    $out = ['ok' => false, 'error' => ''];
    try {
        if ($mode === 'cleanup') {
            require_once __DIR__ . '/PlainDynamoClient.php';
            \LcBench\PlainDynamoClient::fromEnvironment(endpoint())->deleteTable($argv[2]);
            $out['ok'] = true;
        } elseif ($mode === 'prepare') {
            registerAutoloaders($root);
            require_once __DIR__ . '/PlainDynamoClient.php';
            $out += prepare($root, $argv[2], $argv[3], $argv[4], (int) $argv[5]);
            $out['ok'] = true;
        } elseif (\in_array($mode, ['tmp', 'ours', 'plain'], true)) {
            registerAutoloaders($root);
            $marks[] = hrtime(true);
            $pool = match ($mode) {
                'tmp' => new \LambdaCache\TmpCachePool(directory: $argv[2]),
                'ours' => ours($argv[2]),
                'plain' => plain($argv[2]),
            };
            $marks[] = hrtime(true);
            $error = checkHit($pool, $argv[3]);
            $marks[] = hrtime(true);
            $out['error'] = $error ?? '';
            $out['ok'] = $error === null;
        } else {
            throw new \InvalidArgumentException("unknown mode '{$mode}'");
        }
    } catch (\Throwable $e) {
        $out['error'] = \get_class($e) . ': ' . strtok($e->getMessage(), "\n");
    }
    if ($warning !== null) {
        $out['ok'] = false;
        $out['error'] = trim($out['error'] . ' warning: ' . $warning);
    }
    $out['marks'] = $marks;
    $out['hwm_kb'] = peakRssKb();
    echo json_encode($out, \JSON_UNESCAPED_SLASHES | \JSON_INVALID_UTF8_SUBSTITUTE), "\n";

    return $out['ok'] ? 0 : 1;
}

exit(main($argv, $marks));
