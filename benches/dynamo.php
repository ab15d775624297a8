<?php

declare(strict_types=1);

/*
 * LambdaCache DynamoDB benchmark: our DynamoDbCachePool against a plain PHP DynamoDB client
 * (ext-curl + SigV4 + JSON protocol, as a hand-written PSR-6 adapter has it), side by side in one
 * run against the same emulator and the same fresh table. Workloads a-d talk to the emulator
 * directly; e-g repeat the reads of a, c and d through a loopback proxy that holds every HTTP
 * request for BENCH_RTT_MS ms (dev/FaultProxy.php in mode delay:MS), a simulated network round trip.
 *
 *   scripts/dynalite.sh run -- php -d extension=target/release/liblambda_cache.so benches/dynamo.php [--json FILE]
 *
 * Needs LAMBDA_CACHE_DYNAMODB_ENDPOINT (and AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY),
 * which scripts/dynalite.sh exports. Env: BENCH_SECONDS (per sample, default 0.5), BENCH_RUNS
 * (default 5), BENCH_ONLY (e.g. "a,c"), BENCH_STRICT=1 (exit 2 if a target fails),
 * BENCH_RTT_MS (the proxy's delay per request for e-g, default 10),
 * BENCH_PEER_ONLY=1 (run the plain client alone, e.g. before the extension has the store),
 * BENCH_EMULATOR (names the emulator in the header when it cannot be detected).
 * Tables go to stdout, progress to stderr, and the last stdout line is the result as JSON.
 */

namespace LcBench;

use LambdaCache\Dev\DynamoClient;
use LambdaCache\Dev\FaultProxy;
use LambdaCache\Dev\SigV4;

require __DIR__ . '/lib/bootstrap.php';
require __DIR__ . '/lib/Sampler.php';
require __DIR__ . '/lib/Workloads.php';
require __DIR__ . '/lib/Report.php';
require __DIR__ . '/lib/DynamoWorkloads.php';
require __DIR__ . '/lib/DynamoReport.php';

const NATIVE_DYNAMO_CLASS = 'LambdaCache\\Native\\DynamoDbStore';
const OURS_POOL_CLASS = 'LambdaCache\\DynamoDbCachePool';
/** Reads first, writes last: the save workload grows the table the reads would then search. */
const DYNAMO_RUN_ORDER = ['a', 'c', 'd', 'e', 'f', 'g', 'b'];
const EMULATOR_WARMUP_SECONDS = 3.0;
const DEFAULT_RTT_MS = 10;
/** The proxy stops by itself after this long even if this process could not stop it. */
const RTT_PROXY_MAX_LIFETIME = 4 * 3600.0;

/** Counts PHP warnings and notices (a pool reports backend failures that way) instead of printing them all. */
final class Warnings
{
    public int $count = 0;
    public string $first = '';

    public function install(): void
    {
        set_error_handler(function (int $level, string $message, string $file, int $line): bool {
            if (++$this->count <= 3) {
                progress(sprintf('warning: %s (%s:%d)', $message, basename($file), $line));
            }
            $this->first = $this->first !== '' ? $this->first : substr($message, 0, 160);

            return true;
        }, \E_WARNING | \E_USER_WARNING | \E_NOTICE | \E_USER_NOTICE);
    }
}

/**
 * Runs one workload for every implementation, rounds interleaved; returns its result record.
 * With $proxy (the RTT workloads), also what the proxy saw during each sample.
 */
function runDynamoWorkload(Workload $w, array $impls, Sampler $sampler, Options $options, Warnings $warnings,
    ?FaultProxy $proxy = null): array
{
    $measures = [];
    $subjects = [];
    foreach ($impls as $impl) {
        $measures[$impl->id] = ['label' => $impl->label, 'status' => 'ok', 'message' => '', 'samples' => [],
            'ops_per_sec' => 0.0, 'wall_us' => 0.0, 'cpu_us' => 0.0, 'cpu_us_min' => 0.0, 'cpu_us_max' => 0.0,
            'emulator_cpu_us' => null, 'ops' => 0, 'failures' => 0, 'warnings' => 0, 'first_warning' => ''];
        if ($proxy !== null) {
            $measures[$impl->id]['proxy'] = ['max_held' => 0, 'connections' => 0, 'requests' => 0];
        }
        if ($impl->unavailable !== null) {
            [$measures[$impl->id]['status'], $measures[$impl->id]['message']] = ['skipped', $impl->unavailable];
            continue;
        }
        try {
            $subjects[$impl->id] = ($w->prepare)($impl);
        } catch (\Throwable $e) {
            [$measures[$impl->id]['status'], $measures[$impl->id]['message']] = ['error', describe($e, 'setup')];
            progress(sprintf('[%s] %-31s %s', $w->id, $impl->label, $measures[$impl->id]['message']));
        }
    }

    for ($round = 1; $round <= $options->runs; ++$round) {
        // Who goes first alternates: the emulator drifts (JIT, table growth) within a round too.
        $order = $round % 2 === 1 ? array_keys($subjects) : array_reverse(array_keys($subjects));
        foreach ($order as $id) {
            $subject = $subjects[$id];
            $m = &$measures[$id];
            $warned = $warnings->count;
            try {
                $before = $proxy?->stats(); // also restarts the proxy's peaks
                $s = $sampler->sample($subject);
                $after = $proxy?->stats();
            } catch (\Throwable $e) {
                [$m['status'], $m['message']] = ['error', describe($e, "round {$round}")];
                unset($subjects[$id], $m);
                progress(sprintf('[%s] %-31s %s', $w->id, $measures[$id]['label'], $measures[$id]['message']));
                continue;
            }
            if ($warnings->count > $warned) {
                $m['warnings'] += $warnings->count - $warned;
                $m['first_warning'] = $m['first_warning'] ?: $warnings->first;
            }
            $sample = ['ops_per_sec' => round($s['ops_per_sec'], 2), 'wall_us' => round(1e6 / $s['ops_per_sec'], 2),
                'cpu_us' => round($s['cpu_seconds'] * 1e6 / $s['ops'], 2), 'ops' => $s['ops'],
                'emulator_cpu_us' => $s['external_cpu_seconds'] !== null ? round($s['external_cpu_seconds'] * 1e6 / $s['ops'], 2) : null];
            if ($proxy !== null) {
                // Over the sample, its warm-up included: the most requests held at once, the connections used.
                $sample['proxy'] = ['max_held' => $after['max_held'], 'connections' => $after['used'],
                    'requests' => $after['requests'] - $before['requests'],
                    'per_emulator' => array_map(static fn (int $a, int $b) => $a - $b, $after['per_upstream'], $before['per_upstream'])];
                $m['proxy']['max_held'] = max($m['proxy']['max_held'], $after['max_held']);
                $m['proxy']['connections'] = max($m['proxy']['connections'], $after['used']);
                $m['proxy']['requests'] += $sample['proxy']['requests'];
            }
            $m['samples'][] = $sample;
            $m['ops'] += $s['ops'];
            $m['failures'] += $s['failures'];
            progress(sprintf('[%s] round %d/%d  %-31s %8s ops/s %9.1f us/op wall %8.1f PHP CPU %8s emulator CPU%s%s',
                $w->id, $round, $options->runs, $m['label'], number_format($sample['ops_per_sec']), $sample['wall_us'],
                $sample['cpu_us'], $sample['emulator_cpu_us'] !== null ? sprintf('%.1f', $sample['emulator_cpu_us']) : '-',
                isset($sample['proxy']) ? sprintf('  proxy: up to %d requests held at once, %d connections used, requests per emulator %s',
                    $sample['proxy']['max_held'], $sample['proxy']['connections'], implode('/', $sample['proxy']['per_emulator'])) : '',
                $s['failures'] > 0 ? "  ({$s['failures']} of {$s['ops']} checks failed)" : ''));
            unset($m);
        }
    }
    $subjects = [];
    gc_collect_cycles();

    foreach ($measures as &$m) {
        if ($m['samples'] !== []) {
            foreach (['ops_per_sec', 'wall_us', 'cpu_us'] as $field) {
                $m[$field] = Sampler::median(array_column($m['samples'], $field));
            }
            $cpu = array_column($m['samples'], 'cpu_us');
            [$m['cpu_us_min'], $m['cpu_us_max']] = [min($cpu), max($cpu)];
            $emulator = array_column($m['samples'], 'emulator_cpu_us');
            $m['emulator_cpu_us'] = \in_array(null, $emulator, true) ? null : Sampler::median($emulator);
        }
    }
    unset($m);

    return ['title' => $w->title, 'unit' => $w->unit, 'note' => $w->note, 'impls' => $measures];
}

function describe(\Throwable $e, string $when): string
{
    $message = strtok($e->getMessage(), "\n") ?: '';

    return sprintf('%s during %s: %s (%s:%d)', \get_class($e), $when, substr($message, 0, 200),
        basename($e->getFile()), $e->getLine());
}

/** Why ours cannot run, or null when it can; exits with a message unless BENCH_PEER_ONLY is set. */
function oursUnavailable(string $root, bool $peerOnly): ?string
{
    if ($peerOnly) {
        return 'not run (BENCH_PEER_ONLY=1)';
    }
    $why = match (true) {
        !\extension_loaded('lambda_cache') => 'the LambdaCache extension is not loaded',
        !class_exists(NATIVE_DYNAMO_CLASS, false) => 'the loaded LambdaCache extension has no ' . NATIVE_DYNAMO_CLASS
            . ' (an extension built before the DynamoDB store?)',
        !class_exists(OURS_POOL_CLASS) => OURS_POOL_CLASS . " not found under {$root}/php/src/",
        default => null,
    };
    if ($why !== null) {
        fail("{$why}. Build it (make build) and run:\n  scripts/dynalite.sh run -- php -d extension={$root}"
            . "/target/release/liblambda_cache.so benches/dynamo.php\n(BENCH_PEER_ONLY=1 runs the plain client alone.)");
    }

    return null;
}

function usage(): string
{
    return <<<TXT
        usage: scripts/dynalite.sh run -- php -d extension=target/release/liblambda_cache.so benches/dynamo.php [--json FILE]
        env: BENCH_SECONDS    seconds per sample (default 0.5)
             BENCH_RUNS       samples per implementation, median reported (default 5)
             BENCH_ONLY       comma list of workloads a,b,c,d,e,f,g (default all)
             BENCH_RTT_MS     the RTT proxy's delay per request for e,f,g, in ms (default 10)
             BENCH_STRICT=1   exit 2 when a target FAILs
             BENCH_PEER_ONLY=1 run the plain PHP client alone (no extension needed)
             BENCH_EMULATOR   name of the emulator for the header, when it cannot be detected
             LAMBDA_CACHE_DYNAMODB_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (scripts/dynalite.sh sets them)
        --json FILE writes the machine-readable result there instead of the final JSON line on stdout.

        TXT;
}

/**
 * Untimed requests of every kind the workloads send, so the emulator's JIT is warm before the
 * first sample: dynalite's CPU per GetItem falls about fourfold over its first few thousand requests.
 */
function warmEmulator(DynamoClient $client, string $table, float $seconds): int
{
    $requests = 0;
    $ids = array_map(static fn (int $i) => "warm:{$i}", range(0, 99));
    $end = microtime(true) + $seconds;
    for ($i = 0; microtime(true) < $end; ++$i) {
        $client->putItem($table, ['id' => ['S' => $ids[$i % 100]], 'value' => ['B' => base64_encode(stringValue($i))]]);
        $client->getItem($table, $ids[($i * 7) % 100]);
        $requests += 2;
        if ($i % 10 === 9) {
            $client->batchGetItem($table, $ids);
            ++$requests;
        }
    }

    return $requests;
}

/**
 * The emulators behind the RTT proxy: DYNALITE_ENDPOINTS (scripts/dynalite.sh, DYNALITE_INSTANCES=N)
 * when it starts with $endpoint, else $endpoint alone. Each gets the bench's table and the same
 * items: replicas that serve concurrent requests concurrently, as DynamoDB does.
 *
 * @return non-empty-list<string>
 */
function emulatorEndpoints(string $endpoint): array
{
    $listed = preg_split('/\s+/', trim((string) getenv('DYNALITE_ENDPOINTS')), -1, \PREG_SPLIT_NO_EMPTY) ?: [];
    if ($listed === [] || $listed[0] !== $endpoint) {
        return [$endpoint];
    }

    return array_values(array_unique($listed));
}

/** A fresh table: made by our pool's createTable() (the plain client's CreateTable with BENCH_PEER_ONLY). */
function createBenchTable(DynamoClient $client, string $table, string $endpoint, bool $withOurs): string
{
    if ($withOurs) {
        $pool = new \LambdaCache\DynamoDbCachePool(table: $table, namespace: 'bench', endpoint: $endpoint);
        $pool->createTable();
        $by = 'DynamoDbCachePool::createTable()';
    } else {
        $client->createTable($table);
        $by = 'the plain client\'s CreateTable';
    }
    $client->waitForTable($table);
    register_shutdown_function(static function () use ($client, $table): void {
        try {
            $client->deleteTable($table);
        } catch (\Throwable $e) {
            progress("could not delete table {$table}: " . $e->getMessage());
        }
    });

    return $by;
}

function main(array $argv): int
{
    $root = \dirname(__DIR__);
    $options = Options::fromEnvironment($argv, DYNAMO_WORKLOADS, usage());
    bootstrap($root, false);
    require_once __DIR__ . '/lib/PlainDynamoPool.php'; // implements Psr\Cache interfaces: after the autoloaders
    if (!\extension_loaded('curl')) {
        fail('ext-curl is not loaded; the plain PHP client needs it (Debian: apt-get install php8.2-curl)');
    }
    $peerOnly = \in_array(getenv('BENCH_PEER_ONLY'), ['1', 'true', 'yes'], true);
    $rttMs = envInt('BENCH_RTT_MS', DEFAULT_RTT_MS, 0, 1000);
    $oursUnavailable = oursUnavailable($root, $peerOnly);
    $endpoint = (string) getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT');
    if ($endpoint === '') {
        fail("LAMBDA_CACHE_DYNAMODB_ENDPOINT is not set. Run through the emulator script:\n"
            . "  scripts/dynalite.sh run -- php -d extension={$root}/target/release/liblambda_cache.so benches/dynamo.php");
    }
    if (($bad = SigV4::selfTest()) !== []) {
        fail("the plain client's SigV4 signer fails AWS's test vectors:\n  " . implode("\n  ", $bad));
    }

    $table = sprintf('lc-bench-%d-%s', getmypid(), bin2hex(random_bytes(3)));
    $rttWanted = array_intersect(DYNAMO_RTT_WORKLOADS, $options->only) !== [];
    // Workloads a-d use the first emulator; the RTT proxy spreads its requests over all of them.
    $backends = $rttWanted ? emulatorEndpoints($endpoint) : [$endpoint];
    $warm = 0;
    $direct = [];
    foreach ($backends as $backend) {
        $client = DynamoClient::fromEnv($backend);
        try {
            $createdBy = createBenchTable($client, $table, $backend, $oursUnavailable === null);
        } catch (\Throwable $e) {
            fail("cannot create table {$table} at {$backend}: " . describe($e, 'CreateTable'));
        }
        try {
            $warm += warmEmulator($client, $table, EMULATOR_WARMUP_SECONDS);
        } catch (\Throwable $e) {
            fail("warming up the emulator at {$backend} failed: " . describe($e, 'warm-up'));
        }
        $direct[] = dynamoImplementations($table, $backend, $client, $oursUnavailable);
    }
    $impls = $direct[0];
    $proxy = null;
    $rttImpls = [];
    if ($rttWanted) {
        try {
            $proxy = FaultProxy::start($backends, RTT_PROXY_MAX_LIFETIME, "delay:{$rttMs}");
        } catch (\Throwable $e) {
            fail('cannot start the RTT proxy for workloads ' . implode(',', DYNAMO_RTT_WORKLOADS) . ': '
                . describe($e, 'start') . "\n(BENCH_ONLY=a,b,c,d runs without it.)");
        }
        // The plain client through the proxy has a client (and curl handle) of its own.
        $rttImpls = dynamoImplementations($table, $proxy->endpoint(), DynamoClient::fromEnv($proxy->endpoint()),
            $oursUnavailable, $direct);
    }
    $workloads = dynamoWorkloads($rttMs, \count($backends));
    $emulators = array_map(static fn (string $b) => findEmulator($b), $backends);
    $emulator = $emulators[0] + ['warmup_requests' => $warm, 'replicas' => \count($backends)];
    $rtt = $proxy !== null ? ['ms' => $rttMs, 'endpoint' => $proxy->endpoint(), 'pid' => $proxy->pid(),
        'emulators' => \count($backends)] : null;
    $report = new DynamoReport(dynamoEnvironment($endpoint, $emulator, $table, $createdBy, $rtt), $options,
        array_map(static fn (Workload $w) => $w->title, $workloads));
    $warnings = new Warnings();
    $warnings->install();

    echo $report->header();
    $sampler = new Sampler($options->seconds, $options->warmup, processCpuProbe(array_column($emulators, 'pid')));
    foreach (DYNAMO_RUN_ORDER as $id) {
        if (\in_array($id, $options->only, true)) {
            progress("[{$id}] {$workloads[$id]->title}");
            $rttWorkload = \in_array($id, DYNAMO_RTT_WORKLOADS, true);
            $report->add($id, runDynamoWorkload($workloads[$id], $rttWorkload ? $rttImpls : $impls, $sampler, $options,
                $warnings, $rttWorkload ? $proxy : null));
        }
    }
    foreach (array_keys($workloads) as $id) {
        if (\in_array($id, $options->only, true)) {
            echo $report->table($id);
        }
    }
    $proxy?->stop();
    echo $report->summary();

    emitJson($report->json(), $options->jsonFile);

    return $options->strict && $report->failed() ? 2 : 0;
}

exit(main($argv));
