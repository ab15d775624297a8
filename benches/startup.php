<?php

declare(strict_types=1);

/*
 * LambdaCache start-up: what a fresh PHP process pays, as under Bref's function runtime (every
 * invocation may be a new process). hyperfine times fresh `php -n` processes (no php.ini, only the
 * -d flags a variant needs, interleaved by hyperfine's own rounds), /usr/bin/time gives their
 * peak RSS, and strip the stripped size of the .so:
 *
 *   bare   php -n -r ''                      ext    the same with -d extension=<so> (load + MINIT)
 *   tmp    TmpCachePool, one getItem() hit over a prepared directory
 *   plain  dev/DynamoClient.php + lib/PlainDynamoPool.php, one getItem() hit   } same PHP extensions
 *   ours   DynamoDbCachePool, one getItem() hit                                  } (curl), ours + .so
 *
 *   scripts/dynalite.sh run -- php -d extension=target/release/liblambda_cache.so benches/startup.php
 *
 * Env: BENCH_RUNS (hyperfine --runs, default 40), BENCH_STRICT=1 (exit 2 when a target FAILs).
 * Without LAMBDA_CACHE_DYNAMODB_ENDPOINT (scripts/dynalite.sh exports it) plain and ours are skipped.
 * Internally `startup.php hit tmp|plain|ours DIR|TABLE` is the child one command runs.
 */

namespace LcBench;

use LambdaCache\Dev\DynamoClient;
use LambdaCache\Dev\SigV4;

require __DIR__ . '/lib/bootstrap.php';

const KEY = 'startup-item';
const MIB = 1 << 20;

function value(): string
{
    return substr(str_repeat('LambdaCache start-up bench value. ', 7), 0, 200);
}

/** A pool of $kind over $where (a directory or a table). */
function pool(string $kind, string $where): \Psr\Cache\CacheItemPoolInterface
{
    $endpoint = (string) getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT');
    return match ($kind) {
        'tmp' => new \LambdaCache\TmpCachePool(directory: $where),
        'ours' => new \LambdaCache\DynamoDbCachePool(table: $where, endpoint: $endpoint),
        'plain' => (static function () use ($where, $endpoint) {
            require_once __DIR__ . '/lib/PlainDynamoPool.php';
            return new PlainDynamoPool(DynamoClient::fromEnv($endpoint), $where, 'plain');
        })(),
    };
}

/** Runs $cmd (no shell); returns stdout, fails on a non-zero exit. */
function run(array $cmd): string
{
    $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
    $out = stream_get_contents($pipes[1]);
    $err = stream_get_contents($pipes[2]);
    if (proc_close($p) !== 0) {
        fail(implode(' ', $cmd) . " failed:\n{$err}{$out}");
    }
    return $out . $err;
}

function main(array $argv): int
{
    $root = \dirname(__DIR__);
    if (($argv[1] ?? '') === 'hit') {
        bootstrap($root, false);
        $item = pool($argv[2], $argv[3])->getItem(KEY);
        if (!$item->isHit() || $item->get() !== value()) {
            fail("{$argv[2]}: getItem() did not return the saved value");
        }
        return 0;
    }
    bootstrap($root, false);
    $so = (string) (getenv('LAMBDA_CACHE_SO') ?: "{$root}/target/release/liblambda_cache.so");
    $runs = max(2, envInt('BENCH_RUNS', 40, 1, 1000)); // hyperfine needs 2
    $tmp = new TempDirs();
    $dir = $tmp->fresh('startup');
    $php = [PHP_BINARY, '-n'];
    $ext = ['-d', "extension={$so}"];
    $curl = \in_array('curl', explode("\n", run([PHP_BINARY, '-n', '-m'])), true) ? [] : ['-d', 'extension=curl'];
    $self = __FILE__;
    $variants = ['bare' => [...$php, '-r', ''], 'ext' => [...$php, ...$ext, '-r', ''], 'tmp' => [...$php, ...$ext, $self, 'hit', 'tmp', $dir]];
    $pools = ['tmp' => $dir];
    $table = null;
    if (getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT')) {
        if (($bad = SigV4::selfTest()) !== []) {
            fail('the plain client\'s SigV4 signer fails AWS\'s test vectors: ' . implode('; ', $bad));
        }
        $table = sprintf('lc-startup-%d-%s', getmypid(), bin2hex(random_bytes(3)));
        (new \LambdaCache\DynamoDbCachePool(table: $table, endpoint: (string) getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT')))->createTable();
        DynamoClient::fromEnv()->waitForTable($table);
        register_shutdown_function(static fn () => DynamoClient::deleteTablesQuietly([$table]));
        $pools += ['ours' => $table, 'plain' => $table];
        $variants += ['plain' => [...$php, ...$curl, $self, 'hit', 'plain', $table],
            'ours' => [...$php, ...$curl, ...$ext, $self, 'hit', 'ours', $table]];
    }
    foreach ($pools as $kind => $where) {
        $p = pool($kind, $where);
        $p->save($p->getItem(KEY)->set(value())) || fail("{$kind}: save() failed");
    }
    if ($table !== null) { // the emulator's JIT settles over its first thousand requests
        for ($i = 0; $i < 1000; ++$i) {
            pool($i % 2 ? 'ours' : 'plain', $table)->getItem(KEY);
        }
    }

    $json = "{$tmp->base()}/hyperfine.json";
    $cmd = ['hyperfine', '-N', '--style', 'basic', '--warmup', '3', '--runs', (string) $runs, '--export-json', $json];
    foreach ($variants as $name => $v) {
        array_push($cmd, '-n', $name, implode(' ', array_map('escapeshellarg', $v)));
    }
    progress(run($cmd));
    $ms = [];
    foreach (json_decode((string) file_get_contents($json), true)['results'] as $r) {
        $ms[$r['command']] = ['median' => $r['median'] * 1e3, 'mean' => $r['mean'] * 1e3, 'stddev' => $r['stddev'] * 1e3];
    }
    $rss = [];
    foreach (['bare', 'ext'] as $name) {
        $kb = [];
        for ($i = 0; $i < 5; ++$i) {
            $kb[] = (int) trim(run(['/usr/bin/time', '-f', '%M', ...$variants[$name]]));
        }
        sort($kb);
        $rss[$name] = $kb[2];
    }
    run(['strip', '-o', "{$tmp->base()}/stripped.so", $so]);
    $stripped = filesize("{$tmp->base()}/stripped.so");

    echo "LambdaCache start-up: hyperfine -N, {$runs} runs each (medians, ms), peak RSS from /usr/bin/time\n";
    foreach ($ms as $name => $m) {
        printf("  %-6s %7.2f ms (mean %.2f ± %.2f)  %s\n", $name, $m['median'], $m['mean'], $m['stddev'], implode(' ', array_map('escapeshellarg', $variants[$name])));
    }
    printf("  peak RSS: bare %d KiB, ext %d KiB (+%d KiB)\n", $rss['bare'], $rss['ext'], $rss['ext'] - $rss['bare']);
    printf("  .so: %.2f MiB, stripped %.2f MiB\n", filesize($so) / MIB, $stripped / MIB);
    $targets = [['loading the extension', $ms['ext']['median'] - $ms['bare']['median'], 1.0, 'ms over bare php']];
    if (isset($ms['ours'])) {
        $targets[] = ['first DynamoDB hit', $ms['ours']['median'] - $ms['plain']['median'], 5.0, 'ms over the plain client'];
    }
    $targets[] = ['stripped .so', $stripped / MIB, 8.0, 'MiB'];
    $failed = false;
    echo "Targets:\n";
    foreach ($targets as [$what, $value, $max, $unit]) {
        $failed = $failed || $value > $max;
        printf("  %-4s %s: %+.2f %s (at most %+.1f)\n", $value <= $max ? 'PASS' : 'FAIL', $what, $value, $unit, $max);
    }
    echo json_encode(['ms' => $ms, 'rss_kb' => $rss, 'so_bytes' => filesize($so), 'stripped_bytes' => $stripped]), "\n";

    return $failed && getenv('BENCH_STRICT') === '1' ? 2 : 0;
}

exit(main($argv));
