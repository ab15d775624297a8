<?php

declare(strict_types=1);

/*
 * LambdaCache start-up benchmark: what a fresh PHP process pays, as under Bref's function runtime
 * (BREF_LOOP_MAX=1: every invocation is a new process). Every figure comes from fresh
 * `php -n` processes (PHP_BINARY, no php.ini, only the -d flags a variant needs), spawned one
 * after the other in interleaved rounds:
 *
 *   1. php -n -r '' against php -n -d extension=<so> -r '': the extension's load + MINIT cost,
 *      and the peak RSS (VmHWM) of each;
 *   2. spawn -> first /tmp hit (autoloaders, new TmpCachePool over a prepared directory, getItem hit);
 *   3. spawn -> first DynamoDB hit, DynamoDbCachePool against the plain ext-curl + SigV4 client
 *      (lib/PlainDynamoClient.php), both with the same PHP extensions except ours;
 *   4. the .so's size, unstripped and stripped;
 *
 * then the targets (PASS/FAIL, same run) and the result as JSON on the last stdout line.
 *
 *   scripts/dynalite.sh run -- php benches/startup.php [--json FILE]
 *
 * The parent needs no extension. Env: LAMBDA_CACHE_SO (default target/release/liblambda_cache.so),
 * LAMBDA_CACHE_LAYER (default dist/lambda-cache-php-<ver>-<arch>.zip), BENCH_RUNS (rounds, default
 * 40), BENCH_WARMUP (untimed rounds, default 3), BENCH_STRICT=1 (exit 2 when a target FAILs).
 * Without LAMBDA_CACHE_DYNAMODB_ENDPOINT (scripts/dynalite.sh exports it) part 3 is skipped.
 */

namespace LcBench\Startup;

use function LcBench\envInt;
use function LcBench\fail;
use function LcBench\jsonArg;
use function LcBench\progress;

require __DIR__ . '/lib/bootstrap.php';
require __DIR__ . '/lib/StartupRunner.php';
require __DIR__ . '/lib/StartupReport.php';

const KEY = 'startup-item';
/** GetItems per client the prepare step sends, so the emulator's JIT has settled (dynamo.php: its CPU per request falls over the first thousands). */
const EMULATOR_WARM = 1500;
const RSS_RUNS = 10;

/** The extension flags a child needs for ext-curl: none when it is built in, else -d extension=curl (checked). */
function curlArgs(): array
{
    $builtIn = spawn([PHP_BINARY, '-n', '-r', 'echo extension_loaded("curl") ? 1 : 0;']);
    if (trim($builtIn['out']) === '1') {
        return [];
    }
    $shared = spawn([PHP_BINARY, '-n', '-d', 'extension=curl', '-r', 'echo extension_loaded("curl") ? 1 : 0;']);
    if (trim($shared['out']) !== '1') {
        throw new \RuntimeException('ext-curl is neither built in nor loadable with -d extension=curl (Debian: apt install php8.2-curl)');
    }

    return ['-d', 'extension=curl'];
}

/** @return array<string, Variant> */
function variants(string $so, string $dir, ?string $table, array $curl): array
{
    $child = __DIR__ . '/lib/StartupChild.php';
    $ext = ['-d', "extension={$so}"];
    $list = [
        new Variant('bare', "php -n -r ''", ['-n', '-r', ''], 'bare'),
        new Variant('ext', 'php -n + lambda_cache.so', ['-n', ...$ext, '-r', ''], 'bare'),
        new Variant('tmp', 'TmpCachePool, one getItem hit', ['-n', ...$ext, $child, 'tmp', $dir, KEY], 'child'),
        new Variant('bare_rss', 'peak RSS of bare', ['-n', '-r', RSS_PROBE], 'rss', 'bare'),
        new Variant('ext_rss', 'peak RSS of ext', ['-n', ...$ext, '-r', RSS_PROBE], 'rss', 'ext'),
    ];
    if ($table !== null) {
        array_push($list,
            new Variant('curl', 'php -n + curl', ['-n', ...$curl, '-r', ''], 'bare'),
            new Variant('plain', 'plain ext-curl + SigV4 client, one getItem hit', ['-n', ...$curl, $child, 'plain', $table, KEY], 'child'),
            new Variant('ours', 'DynamoDbCachePool, one getItem hit', ['-n', ...$curl, ...$ext, $child, 'ours', $table, KEY], 'child'),
            new Variant('curl_rss', 'peak RSS of curl', ['-n', ...$curl, '-r', RSS_PROBE], 'rss', 'curl'),
        );
    }

    return array_column(array_map(static fn (Variant $v) => [$v->id, $v], $list), 1, 0);
}

function banner(array $env, array $settings, array $variants): string
{
    $out = sprintf("LambdaCache start-up: fresh php processes, %d interleaved rounds (+%d untimed), peak RSS from %d rounds\n",
        $settings['runs'], $settings['warmup'], $settings['rss_runs']);
    $out .= sprintf("PHP %s (%s) %s, %s, %d CPUs, %s\n", PHP_VERSION, PHP_ZTS ? 'ZTS' : 'NTS', PHP_BINARY, php_uname('m'),
        $env['cpus'], $env['endpoint'] !== null ? "DynamoDB endpoint {$env['endpoint']}" : 'no DynamoDB endpoint');
    $out .= "extension (<so>): {$env['so']}\n";
    $out .= "children (no php.ini, no OPcache, so PHP files are compiled in every process):\n";
    foreach ($variants as $v) {
        if ($v->kind !== 'rss') {
            $out .= sprintf("  %-6s %s\n", $v->id, $v->shortCommand($env['so']));
        }
    }
    if (isset($variants['ours'])) {
        $out .= '  plain and ours load the same PHP extensions (' . ($env['curl_args'] === [] ? 'ext-curl built in' : '-d extension=curl')
            . "), ours lambda_cache.so on top. In a fresh process ours sends\n"
            . "  two GetItems (the namespace version, then the item), plain one. Table {$env['table']}: createTable() said\n"
            . '  "' . $env['prepare']['create_table'] . "\"\n"
            . "  Emulator warmed with {$env['prepare']['warm_requests']} untimed GetItems ({$env['prepare']['warm_seconds']} s).\n";
    }

    return $out;
}

function main(array $argv): int
{
    $root = \dirname(__DIR__);
    $jsonFile = jsonArg($argv, "usage: scripts/dynalite.sh run -- php benches/startup.php [--json FILE]\n");
    $settings = ['runs' => envInt('BENCH_RUNS', 40, 1, 1000), 'warmup' => envInt('BENCH_WARMUP', 3, 0, 100)];
    $settings['rss_runs'] = min(RSS_RUNS, $settings['runs']);
    $strict = \in_array(getenv('BENCH_STRICT'), ['1', 'true', 'yes'], true);

    $so = (string) (getenv('LAMBDA_CACHE_SO') ?: $root . '/target/release/liblambda_cache.so');
    $so = realpath($so) ?: fail("LAMBDA_CACHE_SO: {$so} does not exist (make build)");
    $check = spawn([PHP_BINARY, '-n', '-d', "extension={$so}", '-r', 'echo extension_loaded("lambda_cache") ? 1 : 0;']);
    if (trim($check['out']) !== '1') {
        fail("php -n -d extension={$so} does not load lambda_cache: " . trim($check['err'] . $check['out']));
    }
    $phpVersion = PHP_MAJOR_VERSION . PHP_MINOR_VERSION;
    $arch = str_replace('aarch64', 'arm64', php_uname('m'));
    $layer = (string) (getenv('LAMBDA_CACHE_LAYER') ?: "{$root}/dist/lambda-cache-php-{$phpVersion}-{$arch}.zip");
    $endpoint = getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT') ?: null;

    $tmp = new \LcBench\TempDirs();
    $dir = $tmp->fresh('startup-store');
    $table = $endpoint !== null ? sprintf('lc-startup-%d-%s', getmypid(), bin2hex(random_bytes(3))) : null;
    $env = ['so' => $so, 'layer' => $layer, 'endpoint' => $endpoint, 'cpus' => (int) (shell_exec('nproc') ?: 0),
        'php' => PHP_VERSION, 'binary' => PHP_BINARY, 'table' => $table, 'dynamo_skipped' => '', 'curl_args' => [], 'prepare' => []];
    try {
        if ($table !== null) {
            $env['curl_args'] = curlArgs();
        } else {
            $env['dynamo_skipped'] = 'LAMBDA_CACHE_DYNAMODB_ENDPOINT is not set: run under scripts/dynalite.sh';
        }
        progress('preparing the /tmp store' . ($table !== null ? ", table {$table} and the emulator" : ''));
        $env['prepare'] = helper(['-n', ...$env['curl_args'], '-d', "extension={$so}", __DIR__ . '/lib/StartupChild.php',
            'prepare', $dir, $table ?? '-', KEY, (string) EMULATOR_WARM], 'prepare');
        $env['prepare'] = array_diff_key($env['prepare'], ['ok' => 0, 'error' => 0, 'marks' => 0, 'hwm_kb' => 0]);
    } catch (\Throwable $e) {
        fail($e->getMessage());
    }
    $variants = variants($so, $dir, $table, $env['curl_args']);
    echo banner($env, $settings, $variants);

    $samples = runRounds(array_values($variants), $settings['runs'], $settings['warmup'], $settings['rss_runs']);
    if ($table !== null) {
        try {
            helper(['-n', ...$env['curl_args'], __DIR__ . '/lib/StartupChild.php', 'cleanup', $table], 'deleting the table');
        } catch (\Throwable $e) {
            progress($e->getMessage());
        }
    }
    $sizes = sizes($so, $tmp->base(), $layer);
    $report = new Report($samples, $variants, $sizes, $env, $settings);
    echo $report->text();

    $json = $report->json();
    if ($jsonFile !== null) {
        file_put_contents($jsonFile, $json . "\n") !== false || fail("cannot write {$jsonFile}");
        progress("JSON written to {$jsonFile}");
    } else {
        echo $json, "\n";
    }
    $tmp->cleanup();

    return $strict && $report->failed() ? 2 : 0;
}

exit(main($argv));
