<?php

declare(strict_types=1);

/*
 * Leak run (`make soak`): mixed get/set/getItems/delete calls on one store in one PHP process,
 * memory_get_usage() and RSS sampled as it goes; fails (exit 1) when either grows by 1 MiB or
 * more after warm-up. Not part of `make test`.
 *
 *   php -d extension=target/release/liblambda_cache.so benches/soak.php tmp [CALLS]
 *   scripts/dynalite.sh run -- php -d extension=... benches/soak.php dynamo [CALLS]
 *
 * CALLS: default 1,000,000 (tmp) and 500,000 (dynamo: dynalite serves about 3,700 calls/s here, so 2-3 min). Warm-up is
 * the first tenth of the calls; the baseline is the largest sample taken during it, so the check
 * is on growth after warm-up, not on the caches filling up.
 */

namespace LcSoak;

require __DIR__ . '/lib/bootstrap.php';

const LIMIT = 1 << 20;
const SAMPLES = 50;

function rss(): int
{
    $status = (string) @file_get_contents('/proc/self/status');

    return preg_match('/^VmRSS:\s+(\d+) kB/m', $status, $m) ? (int) $m[1] * 1024 : 0;
}

/** The pool for $store, on a fresh directory or table. */
function pool(string $store, Logger $logger): array
{
    if ($store === 'tmp') {
        $dir = sys_get_temp_dir() . '/lc-soak-' . getmypid() . '-' . bin2hex(random_bytes(4));
        $pool = new \LambdaCache\TmpCachePool(namespace: 'soak', directory: $dir, maxBytes: 16 << 20, logger: $logger);

        return [$pool, static function () use ($dir): void {
            foreach (glob("{$dir}/*") ?: [] as $f) {
                unlink($f);
            }
            @rmdir($dir);
        }];
    }
    $endpoint = getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT') ?: throw new \RuntimeException('run under scripts/dynalite.sh');
    $table = 'lc-soak-' . getmypid() . '-' . bin2hex(random_bytes(4));
    $pool = new \LambdaCache\DynamoDbCachePool(table: $table, namespace: 'soak', endpoint: $endpoint, logger: $logger);
    $pool->createTable();

    return [$pool, static fn () => null];
}

/** Counts failures instead of printing them, so a failure cannot look like a leak. */
final class Logger
{
    public int $warnings = 0;
    public string $last = '';

    public function warning($message, array $context = []): void
    {
        ++$this->warnings;
        $this->last = (string) $message;
    }
}

final class Dto
{
    public function __construct(public int $id, public array $tags, public \DateTimeImmutable $at)
    {
    }
}

function value(int $i): mixed
{
    return match ($i % 5) {
        0 => str_repeat('s', 100 + $i % 400),
        1 => ['id' => $i, 'list' => range(0, $i % 20), 'name' => "n{$i}"],
        2 => new Dto($i, ['a', 'b'], new \DateTimeImmutable('@' . (1_700_000_000 + $i))),
        3 => $i,
        default => null,
    };
}

function main(array $argv): int
{
    $store = $argv[1] ?? '';
    if (!\in_array($store, ['tmp', 'dynamo'], true)) {
        fwrite(STDERR, "usage: soak.php tmp|dynamo [CALLS]\n");

        return 2;
    }
    if (!\extension_loaded('lambda_cache')) {
        fwrite(STDERR, "soak.php: the lambda_cache extension is not loaded\n");

        return 2;
    }
    \LcBench\bootstrap(\dirname(__DIR__), false);
    $calls = (int) ($argv[2] ?? ($store === 'tmp' ? 1_000_000 : 500_000));
    $logger = new Logger();
    [$pool, $cleanup] = pool($store, $logger);
    $cache = new \LambdaCache\Psr16Cache($pool);
    $keys = 1000;
    $warmup = intdiv($calls, 10);
    $every = max(1, intdiv($calls, SAMPLES));
    // Filled in place, so that the samples themselves do not grow the heap.
    $samples = array_fill(0, SAMPLES + 2, ['call' => -1, 'php' => 0, 'rss' => 0]);
    $taken = 0;
    $hits = 0;
    $t0 = microtime(true);
    for ($n = 0; $n < $calls; ++$n) {
        $i = (intdiv($n, 10) * 7919) % $keys;
        $key = "k{$i}";
        switch ($n % 10) {
            case 0:
            case 1:
            case 2:
                $hits += $pool->getItem($key)->isHit() ? 1 : 0;
                break;
            case 3:
                $pool->save($pool->getItem($key)->set(value($n)));
                break;
            case 4:
                foreach ($pool->getItems(["k{$i}", 'k' . (($i + 1) % $keys), (string) ($i % 50), 'k' . (($i + 7) % $keys)]) as $item) {
                    $hits += $item->isHit() ? 1 : 0;
                }
                break;
            case 5:
                $cache->set((string) ($i % 50), value($n), 3600);
                break;
            case 6:
                $hits += $cache->get($key) !== null ? 1 : 0;
                break;
            case 7:
                foreach ($cache->getMultiple([$key, (string) ($i % 50)]) as $v) {
                    $hits += $v !== null ? 1 : 0;
                }
                break;
            case 8:
                $pool->saveDeferred($pool->getItem("d{$i}")->set(value($n)));
                $pool->commit();
                break;
            default:
                $n % 20 === 9 ? $pool->deleteItem('k' . (($i + 500) % $keys)) : $cache->deleteMultiple(["d{$i}", 'missing']);
        }
        if ($n % $every === 0 || $n === $calls - 1) {
            gc_collect_cycles();
            $samples[$taken++] = ['call' => $n, 'php' => memory_get_usage(), 'rss' => rss()];
        }
    }
    $seconds = microtime(true) - $t0;
    $cleanup();

    $samples = \array_slice($samples, 0, $taken);
    $during = array_filter($samples, static fn (array $s) => $s['call'] <= $warmup);
    $after = array_filter($samples, static fn (array $s) => $s['call'] > $warmup);
    $growth = [];
    foreach (['php', 'rss'] as $what) {
        $base = max(array_column($during, $what));
        $growth[$what] = max(array_column($after, $what)) - $base;
    }
    printf("%s: %s calls in %.1f s (%s calls/s), %d hits, %d failures reported%s\n", $store, number_format($calls), $seconds,
        number_format($calls / $seconds), $hits, $logger->warnings, $logger->warnings ? " (last: {$logger->last})" : '');
    printf("  memory_get_usage(): %s after warm-up, largest later %s: growth %+d bytes\n",
        number_format(max(array_column($during, 'php'))), number_format(max(array_column($after, 'php'))), $growth['php']);
    printf("  RSS: %s after warm-up, largest later %s: growth %+d bytes\n",
        number_format(max(array_column($during, 'rss'))), number_format(max(array_column($after, 'rss'))), $growth['rss']);
    $ok = $growth['php'] < LIMIT && $growth['rss'] < LIMIT && $logger->warnings === 0;
    echo $ok ? "  PASS: growth under 1 MiB\n" : "  FAIL: growth of 1 MiB or more, or failures\n";

    return $ok ? 0 : 1;
}

exit(main($argv));
