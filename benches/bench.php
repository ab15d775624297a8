<?php

declare(strict_types=1);

/*
 * LambdaCache PHP benchmark: our TmpCachePool / Psr16Cache against symfony/cache's
 * FilesystemAdapter, PhpFilesAdapter and ApcuAdapter, side by side in one run.
 *
 *   php -d extension=target/release/liblambda_cache.so -d apc.enable_cli=1 -d opcache.enable_cli=1 \
 *       benches/bench.php [--json FILE]
 *
 * Env: BENCH_SECONDS (per sample, default 0.5), BENCH_RUNS (default 5), BENCH_ONLY (e.g. "a,c"),
 * BENCH_STRICT=1 (exit 2 if a target fails). Tables go to stdout, progress to stderr, and the
 * last stdout line is the result as JSON (or it goes to FILE with --json FILE).
 */

namespace LcBench;

require __DIR__ . '/lib/bootstrap.php';
require __DIR__ . '/lib/Sampler.php';
require __DIR__ . '/lib/Impls.php';
require __DIR__ . '/lib/Workloads.php';
require __DIR__ . '/lib/Report.php';
require __DIR__ . '/lib/Chart.php';

/*
 * Execution order. The writing workloads go last: every PhpFilesAdapter save calls
 * opcache_compile_file(), so c (new files) fills OPcache's memory and f (rewrites) wastes it, and
 * the CLI never restarts a full OPcache; a hit workload run after them would measure
 * PhpFilesAdapter without OPcache. Tables are printed in a..f order at the end.
 */
const RUN_ORDER = ['a', 'b', 'd', 'e', 'g', 'h', 'i', 'j', 'k', 'l', 'f', 'c'];

function opcacheState(): array
{
    $s = \function_exists('opcache_get_status') ? (opcache_get_status(false) ?: []) : [];

    return [
        'full' => (bool) ($s['cache_full'] ?? false),
        'wasted_pct' => round((float) ($s['memory_usage']['current_wasted_percentage'] ?? 0), 1),
    ];
}

/** Runs one workload for every implementation, rounds interleaved; returns its result record. */
function runWorkload(Workload $w, array $impls, Sampler $sampler, Options $options, TempDirs $tmp): array
{
    $opcacheBefore = opcacheState();
    $measures = [];
    $subjects = [];
    foreach ($impls as $impl) {
        $measures[$impl->id] = ['label' => $impl->label, 'status' => 'ok', 'message' => '', 'samples' => [],
            'median' => 0.0, 'min' => 0.0, 'max' => 0.0, 'ops' => 0, 'failures' => 0];
        if ($w->impls !== null && !\in_array($impl->id, $w->impls, true)) {
            unset($measures[$impl->id]);
            continue;
        }
        if ($impl->unavailable !== null) {
            [$measures[$impl->id]['status'], $measures[$impl->id]['message']] = ['skipped', $impl->unavailable];
            continue;
        }
        try {
            $subjects[$impl->id] = ($w->prepare)($impl, $tmp);
        } catch (\Throwable $e) {
            [$measures[$impl->id]['status'], $measures[$impl->id]['message']] = ['error', describe($e, 'setup')];
        }
    }

    for ($round = 1; $round <= $options->runs; ++$round) {
        foreach ($subjects as $id => $subject) {
            try {
                $s = $sampler->sample($subject);
            } catch (\Throwable $e) {
                [$measures[$id]['status'], $measures[$id]['message']] = ['error', describe($e, "round {$round}")];
                unset($subjects[$id]);
                release($subject);
                progress(sprintf('[%s] %-26s %s', $w->id, $measures[$id]['label'], $measures[$id]['message']));
                continue;
            }
            $measures[$id]['samples'][] = round($s['ops_per_sec'], 1);
            $measures[$id]['ops'] += $s['ops'];
            $measures[$id]['failures'] += $s['failures'];
            progress(sprintf('[%s] round %d/%d  %-26s %14s ops/s%s', $w->id, $round, $options->runs,
                $measures[$id]['label'], number_format($s['ops_per_sec']),
                $s['failures'] > 0 ? "  ({$s['failures']} of {$s['ops']} checks failed)" : ''));
        }
    }
    foreach ($subjects as $subject) {
        release($subject);
    }

    foreach ($measures as &$m) {
        if ($m['samples'] !== []) {
            [$m['median'], $m['min'], $m['max']] = [Sampler::median($m['samples']), min($m['samples']), max($m['samples'])];
        }
    }
    unset($m);

    return ['title' => $w->title, 'unit' => $w->unit, 'note' => $w->note, 'impls' => $measures,
        'opcache_before' => $opcacheBefore, 'opcache_after' => opcacheState()];
}

function release(Subject $subject): void
{
    try {
        if ($subject->teardown !== null) {
            ($subject->teardown)();
        }
    } catch (\Throwable $e) {
        progress('teardown: ' . describe($e, 'teardown'));
    }
}

function describe(\Throwable $e, string $when): string
{
    $message = strtok($e->getMessage(), "\n") ?: '';

    return sprintf('%s during %s: %s (%s:%d)', \get_class($e), $when, substr($message, 0, 200),
        basename($e->getFile()), $e->getLine());
}

function main(array $argv): int
{
    $root = \dirname(__DIR__);
    $options = Options::fromEnvironment($argv);
    bootstrap($root);
    checkOurs($root);
    $tmp = new TempDirs();
    $impls = implementations();
    $workloads = workloads();
    $report = new Report(environment($tmp->base()), $options,
        array_map(static fn (Workload $w) => $w->title, $workloads),
        array_column(array_map(static fn (Impl $i) => ['id' => $i->id, 'label' => $i->label], $impls), 'label', 'id'));

    echo $report->header();
    $sampler = new Sampler($options->seconds, $options->warmup);
    foreach (RUN_ORDER as $id) {
        if (\in_array($id, $options->only, true)) {
            progress("[{$id}] {$workloads[$id]->title}");
            $report->add($id, runWorkload($workloads[$id], $impls, $sampler, $options, $tmp));
        }
    }
    if (\in_array('w', $options->only, true)) {
        progress('[w] worst save() latency, 1,000,000 new keys');
        $report->worstSave = worstSave($tmp, 1_000_000);
    }
    foreach (array_keys($workloads) as $id) {
        if (\in_array($id, $options->only, true)) {
            echo $report->table($id);
        }
    }
    echo $report->summary();
    if (($svg = getenv('BENCH_SVG')) !== false && $svg !== '') {
        $chart = ratioChart('LambdaCache / symfony/cache peer, ops/s ratio (right of 1x: ours faster)',
            array_map(static fn (Workload $w) => $w->title, $workloads), $report->ratios());
        file_put_contents($svg, $chart) !== false || fail("cannot write {$svg}");
        progress("chart written to {$svg}");
    }

    emitJson($report->json(), $options->jsonFile);
    $tmp->cleanup();

    return $options->strict && $report->failed() ? 2 : 0;
}

exit(main($argv));
