<?php

declare(strict_types=1);

namespace LcBench;

/** The issue's targets: [workload, peer, minimum ours/peer ratio]. */
const TARGETS = [
    ['a', 'filesystem', 8.0],
    ['a', 'apcu', 1.0],
    ['b', 'filesystem', 8.0],
    ['b', 'apcu', 1.0],
    ['c', 'filesystem', 10.0],
    ['d', 'filesystem', 10.0],
    ['g', 'apcu', 1.0], ['g', 'phpfiles', 1.0], ['h', 'apcu', 1.0], ['h', 'phpfiles', 1.0],
    ['i', 'apcu', 1.0], ['i', 'phpfiles', 1.0], ['j', 'apcu', 1.0], ['k', 'apcu', 1.0], ['l', 'apcu', 1.0],
];

final class Report
{
    /**
     * @param array<string, string> $titles  workload id => title
     * @param array<string, string> $labels  implementation id => label
     * @param array<string, array>  $results workload id => result (see bench.php)
     */
    public function __construct(
        private readonly array $environment,
        private readonly Options $options,
        private readonly array $titles,
        private readonly array $labels,
        private array $results = [],
    ) {
    }

    /** The worst save() of worstSave(), reported under the targets. */
    public ?array $worstSave = null;

    public function add(string $workload, array $result): void
    {
        $this->results[$workload] = $result;
    }

    public function header(): string
    {
        $e = $this->environment;
        $lines = [
            'LambdaCache benchmark: ours vs symfony/cache peers, side by side in one run',
            sprintf('  PHP %s, lambda_cache %s, %d CPUs, load average at start %s', $e['php'], $e['lambda_cache'],
                $e['cpus'], $e['loadavg']),
            sprintf('  OPcache in memory: %s%s (PhpFilesAdapter hits are served from OPcache only when enabled)',
                $e['opcache_enabled'] ? 'ENABLED' : 'DISABLED',
                $e['opcache_file_cache_only'] ? ', file_cache_only' : ''),
            sprintf('  APCu: %s (apc.serializer=%s, apc.shm_size=%s; ApcuAdapter without marshaller, Symfony default)',
                $e['apcu'], $e['apc_serializer'], $e['apc_shm_size']),
            sprintf('  igbinary: %s; Symfony FilesystemAdapter marshaller: %s', $e['igbinary'], $e['symfony_marshaller']),
            sprintf('  symfony/cache from %s; temp dirs under %s', $e['symfony_cache'], $e['tmp_dir']),
            sprintf('  each figure: median of %d samples x %.2f s (after %.2f s warm-up per sample), rounds interleaved',
                $this->options->runs, $this->options->seconds, $this->options->warmup),
        ];

        return implode("\n", $lines) . "\n";
    }

    public function table(string $id): string
    {
        $r = $this->results[$id];
        $out = sprintf("\n%s. %s  [ops/s = %s]\n   %s\n", $id, $r['title'], $r['unit'], $r['note']);
        $out .= sprintf("  %-28s %14s %12s %12s %10s\n", 'implementation', 'median ops/s', 'min', 'max', 'ours/peer');
        $ours = $r['impls']['ours'] ?? null;
        foreach ($r['impls'] as $implId => $m) {
            if ($m['status'] !== 'ok') {
                $out .= sprintf("  %-28s %s\n", $m['label'], strtoupper($m['status']) . ': ' . $m['message']);
                continue;
            }
            $ratio = $implId === 'ours' ? '' : self::formatRatio(self::ratio($ours, $m));
            $out .= sprintf("  %-28s %14s %12s %12s %10s%s\n", $m['label'], self::n($m['median']),
                self::n($m['min']), self::n($m['max']), $ratio,
                $m['failures'] > 0 ? sprintf('  CHECK FAILED: %d bad of %d ops', $m['failures'], $m['ops']) : '');
        }
        if ($r['opcache_before']['full'] || $r['opcache_after']['full']) {
            $out .= sprintf("   note: OPcache was full %s this workload: PhpFilesAdapter includes were (partly) not cached\n",
                $r['opcache_before']['full'] ? 'before' : 'by the end of');
        }

        return $out;
    }

    /** @return array<string, array<string, ?float>> workload id => [peer label => ours/peer], for ratioChart() */
    public function ratios(): array
    {
        $out = [];
        foreach ($this->results as $id => $r) {
            foreach ($r['impls'] ?? [] as $implId => $m) {
                if ($implId !== 'ours') {
                    $out[$id][$m['label']] = $m['status'] === 'ok' ? self::ratio($r['impls']['ours'] ?? null, $m) : null;
                }
            }
        }
        ksort($out);

        return $out;
    }

    /** @return list<array{workload: string, peer: string, min: float, ratio: ?float, status: string, why: string}> */
    public function targets(): array
    {
        $rows = [];
        foreach (TARGETS as [$wid, $peer, $min]) {
            $row = ['workload' => $wid, 'peer' => $peer, 'min' => $min, 'ratio' => null, 'status' => 'SKIP', 'why' => ''];
            $r = $this->results[$wid] ?? null;
            $ours = $r['impls']['ours'] ?? null;
            $other = $r['impls'][$peer] ?? null;
            if ($r === null) {
                $row['why'] = 'workload not run (BENCH_ONLY)';
            } elseif ($ours === null || $ours['status'] !== 'ok') {
                [$row['status'], $row['why']] = ['FAIL', 'ours: ' . ($ours['message'] ?? 'not run')];
            } elseif ($ours['failures'] > 0) {
                [$row['status'], $row['why']] = ['FAIL', "ours failed {$ours['failures']} value checks"];
            } elseif ($other === null || $other['status'] !== 'ok') {
                $row['why'] = 'peer: ' . ($other['message'] ?? 'not run');
            } else {
                $row['ratio'] = self::ratio($ours, $other);
                $row['status'] = $row['ratio'] >= $min ? 'PASS' : 'FAIL';
            }
            $rows[] = $row;
        }

        return $rows;
    }

    public function summary(): string
    {
        $out = "\nTargets (ours/peer ratios of medians, measured in this run)\n";
        foreach ($this->targets() as $t) {
            $title = $this->titles[$t['workload']] ?? $t['workload'];
            $peer = $this->labels[$t['peer']] ?? $t['peer'];
            $out .= sprintf("  %-3s %-56s vs %-26s %9s  need >= %-4s %s%s\n", $t['workload'] . '.',
                $title, $peer, self::formatRatio($t['ratio']),
                rtrim(rtrim(sprintf('%.1f', $t['min']), '0'), '.') . 'x', $t['status'],
                $t['why'] !== '' ? " ({$t['why']})" : '');
        }
        $out .= self::tally($this->targets());
        if (($w = $this->worstSave) !== null) {
            $out .= sprintf("  w.  worst save() of %s new 200-byte strings into the default 128 MiB budget: %.1f ms (save #%s; "
                . "worst CPU time of one save %.1f ms; %s evictions, %s failed saves, %s entries left, %.1f s in all)\n", self::n($w['saves']), $w['worst_ms'],
                self::n($w['worst_at']), $w['worst_cpu_ms'], self::n($w['evictions']), self::n($w['failed']), self::n($w['entries']), $w['seconds']);
        }

        return $out;
    }

    public function failed(): bool
    {
        return self::anyFailed($this->targets());
    }

    public function json(): string
    {
        return self::encode('lambda_cache-php', self::settings($this->options), $this->environment,
            $this->results + ['w' => $this->worstSave], $this->targets());
    }

    /** The closing line of a targets block: how many passed, failed and were skipped (and reference lines, INFO). */
    public static function tally(array $targets): string
    {
        $counts = array_count_values(array_column($targets, 'status'));

        return sprintf("  => %d PASS, %d FAIL, %d SKIP%s\n", $counts['PASS'] ?? 0, $counts['FAIL'] ?? 0, $counts['SKIP'] ?? 0,
            isset($counts['INFO']) ? " (and {$counts['INFO']} reference line, not a target)" : '');
    }

    public static function anyFailed(array $targets): bool
    {
        return \in_array('FAIL', array_column($targets, 'status'), true);
    }

    /** The sampling settings, as every benchmark's JSON line records them. */
    public static function settings(Options $options): array
    {
        return [
            'seconds' => $options->seconds,
            'warmup_seconds' => $options->warmup,
            'runs' => $options->runs,
            'only' => $options->only,
        ];
    }

    /** A benchmark's machine-readable result line. */
    public static function encode(string $bench, array $settings, array $environment, array $workloads, array $targets): string
    {
        return json_encode([
            'bench' => $bench,
            'time' => gmdate('c'),
            'settings' => $settings,
            'environment' => $environment,
            'workloads' => $workloads,
            'targets' => $targets,
        ], \JSON_UNESCAPED_SLASHES | \JSON_PRESERVE_ZERO_FRACTION | \JSON_INVALID_UTF8_SUBSTITUTE);
    }

    private static function ratio(?array $ours, array $peer): ?float
    {
        if ($ours === null || $ours['status'] !== 'ok' || $peer['median'] <= 0) {
            return null;
        }

        return $ours['median'] / $peer['median'];
    }

    public static function formatRatio(?float $ratio): string
    {
        return $ratio === null ? '-' : sprintf($ratio >= 100 ? '%.0fx' : '%.2fx', $ratio);
    }

    public static function n(float $value): string
    {
        return number_format($value, 0, '.', ',');
    }
}
