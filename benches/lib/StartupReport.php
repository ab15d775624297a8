<?php

declare(strict_types=1);

/*
 * benches/startup.php's output: the tables (medians, p90, differences of medians), the targets
 * with PASS/FAIL, and the JSON result.
 */

namespace LcBench\Startup;

/** First DynamoDB hit, ours: at most the plain ext-curl client's + this (medians, spawn -> hit). */
const TARGET_DYNAMO_EXTRA_MS = 5.0;
/** The stripped .so (what the layer ships). */
const TARGET_STRIPPED_BYTES = 8 * 1024 * 1024;

final class Report
{
    private const W = 58;

    /** @param array<string, Variant> $variants by id */
    public function __construct(
        private readonly Samples $samples,
        private readonly array $variants,
        private readonly array $sizes,
        private readonly array $environment,
        private readonly array $settings,
    ) {
    }

    public function text(): string
    {
        $out = $this->processTable();
        $out .= $this->hitTable('2. First /tmp hit (TmpCachePool over a prepared directory)', 'bare', ['tmp'], []);
        if (isset($this->variants['ours'])) {
            $out .= $this->hitTable('3. First DynamoDB hit (one getItem() hit in a fresh process)', 'curl', ['plain', 'ours'],
                [['ours', 'plain', 'ours - plain']]);
        } else {
            $out .= "\n3. First DynamoDB hit: skipped ({$this->environment['dynamo_skipped']})\n";
        }
        $out .= $this->phaseTable();
        $out .= $this->sizeTable();
        $out .= $this->targetsText();

        return $out;
    }

    private function processTable(): string
    {
        $out = sprintf("\n1. Process start-up, nothing run (wall: spawn -> reaped)\n   %-" . self::W . "s %9s %9s %12s\n",
            '', 'median ms', 'p90 ms', 'peak RSS');
        $ids = isset($this->variants['curl']) ? ['bare', 'ext', 'curl'] : ['bare', 'ext'];
        foreach ($ids as $id) {
            $w = $this->samples->stats($id, 'wall');
            $out .= sprintf("   %-" . self::W . "s %9s %9s %12s%s\n", $this->variants[$id]->shortCommand($this->environment['so']),
                self::ms($w['median'] ?? null), self::ms($w['p90'] ?? null), self::mib($this->samples->median($id, 'hwm_kb')),
                $this->failureNote($id));
        }
        $out .= sprintf("   %-" . self::W . "s %9s %9s %12s\n", '= loading lambda_cache.so (load + MINIT + MSHUTDOWN)',
            self::diffMs($this->diff('ext', 'bare', 'wall')), '', self::diffMib($this->diff('ext', 'bare', 'hwm_kb')));

        return $out;
    }

    /** @param list<array{string, string, string}> $pairs extra difference rows: [a, b, label] */
    private function hitTable(string $title, string $base, array $ids, array $pairs): string
    {
        $h = "   %-" . self::W . "s %9s %9s | %9s %9s | %10s\n";
        $out = "\n{$title}\n" . sprintf($h, '', 'to hit', 'p90', 'whole', 'p90', 'peak RSS')
            . sprintf($h, '', 'median ms', 'ms', 'median ms', 'ms', '');
        $wb = $this->samples->stats($base, 'wall');
        $out .= sprintf($h, $this->variants[$base]->shortCommand($this->environment['so']), '-', '-', self::ms($wb['median'] ?? null),
            self::ms($wb['p90'] ?? null), self::mib($this->samples->median($base, 'hwm_kb')));
        foreach ($ids as $id) {
            $t = $this->samples->stats($id, 'to_hit');
            $w = $this->samples->stats($id, 'wall');
            $out .= sprintf(rtrim($h) . "%s\n", $this->variants[$id]->label, self::ms($t['median'] ?? null), self::ms($t['p90'] ?? null),
                self::ms($w['median'] ?? null), self::ms($w['p90'] ?? null), self::mib($this->samples->median($id, 'hwm_kb')),
                $this->failureNote($id));
        }
        foreach ($ids as $id) {
            $out .= sprintf($h, "= {$id} - the bare process above", '', '', self::diffMs($this->diff($id, $base, 'wall')), '',
                self::diffMib($this->diff($id, $base, 'hwm_kb')));
        }
        foreach ($pairs as [$a, $b, $label]) {
            $out .= sprintf($h, "= {$label}", self::diffMs($this->diff($a, $b, 'to_hit')), '',
                self::diffMs($this->diff($a, $b, 'wall')), '', self::diffMib($this->diff($a, $b, 'hwm_kb')));
        }

        return $out;
    }

    private function phaseTable(): string
    {
        $cols = ['to_script' => 'exec->script', 'autoload' => 'autoloaders', 'pool' => 'new pool', 'get' => 'getItem hit',
            'after_hit' => 'hit->reaped'];
        $out = "\n   Where the time goes (medians, ms; the child's hrtime marks against the parent's clock)\n"
            . sprintf('   %-' . self::W . 's', '') . implode('', array_map(static fn ($c) => sprintf(' %12s', $c), $cols)) . "\n";
        foreach (['tmp', 'plain', 'ours'] as $id) {
            if (!isset($this->variants[$id])) {
                continue;
            }
            $out .= sprintf('   %-' . self::W . 's', $this->variants[$id]->label);
            foreach (array_keys($cols) as $metric) {
                $out .= sprintf(' %12s', self::ms($this->samples->median($id, $metric)));
            }
            $out .= "\n";
        }

        return $out;
    }

    private function sizeTable(): string
    {
        $s = $this->sizes;
        $out = "\n4. Size of the extension\n";
        $out .= sprintf("   %-" . self::W . "s %24s\n", 'unstripped (<so>)', self::bytes($s['unstripped']));
        $out .= sprintf("   %-" . self::W . "s %24s%s\n", 'stripped copy (strip --strip-unneeded, as layer/build.sh)',
            self::bytes($s['stripped']), $s['strip_error'] !== '' ? "  ({$s['strip_error']})" : '');
        $same = match ($s['layer_same']) { true => 'same bytes as the stripped copy', false => 'differs from the stripped copy: stale zip?', null => '' };
        $out .= sprintf("   %-" . self::W . "s %24s%s\n", 'in the layer zip (dist/' . basename($s['layer_zip']) . ')',
            $s['layer'] !== null ? self::bytes($s['layer']) : 'no zip', $same !== '' ? "  ({$same})" : '');

        return $out;
    }

    /** @return list<array{id: string, what: string, measured: string, limit: string, status: string, why: string}> */
    public function targets(): array
    {
        return [$this->dynamoTarget(), $this->sizeTarget()];
    }

    private function dynamoTarget(): array
    {
        $t = ['id' => 'dynamo_first_hit', 'what' => 'first DynamoDB hit, ours <= plain ext-curl + ' . TARGET_DYNAMO_EXTRA_MS . ' ms (median spawn -> hit)',
            'measured' => '-', 'limit' => '-', 'status' => 'SKIP', 'why' => ''];
        if (!isset($this->variants['ours'])) {
            $t['why'] = $this->environment['dynamo_skipped'];

            return $t;
        }
        $ours = $this->samples->median('ours', 'to_hit');
        $plain = $this->samples->median('plain', 'to_hit');
        if (($this->samples->failures['ours'] ?? 0) > 0 || $ours === null) {
            return ['status' => 'FAIL', 'why' => 'ours failed: ' . ($this->samples->firstError['ours'] ?? 'no samples')] + $t;
        }
        if (($this->samples->failures['plain'] ?? 0) > 0 || $plain === null) {
            return ['why' => 'plain client failed: ' . ($this->samples->firstError['plain'] ?? 'no samples')] + $t;
        }
        $limit = $plain + TARGET_DYNAMO_EXTRA_MS * 1e6;

        return ['measured' => self::ms($ours) . ' ms', 'limit' => self::ms($limit) . ' ms',
            'status' => $ours <= $limit ? 'PASS' : 'FAIL', 'why' => sprintf('plain %s ms', self::ms($plain))] + $t;
    }

    private function sizeTarget(): array
    {
        $t = ['id' => 'stripped_size', 'what' => 'stripped .so <= 8 MiB', 'measured' => '-',
            'limit' => self::bytes(TARGET_STRIPPED_BYTES), 'status' => 'FAIL', 'why' => ''];
        $size = $this->sizes['stripped'] ?? $this->sizes['layer'];
        if ($size === null) {
            return ['why' => 'no stripped size: ' . $this->sizes['strip_error']] + $t;
        }
        $why = $this->sizes['stripped'] === null ? 'from the layer zip' : '';

        return ['measured' => self::bytes($size), 'status' => $size <= TARGET_STRIPPED_BYTES ? 'PASS' : 'FAIL', 'why' => $why] + $t;
    }

    private function targetsText(): string
    {
        $out = "\nTargets (measured in this run)\n";
        foreach ($this->targets() as $t) {
            $out .= sprintf("   %-72s %s (limit %s)  %s%s\n", $t['what'], $t['measured'], $t['limit'], $t['status'],
                $t['why'] !== '' ? " ({$t['why']})" : '');
        }
        $counts = array_count_values(array_column($this->targets(), 'status'));

        return $out . sprintf("   => %d PASS, %d FAIL, %d SKIP\n", $counts['PASS'] ?? 0, $counts['FAIL'] ?? 0, $counts['SKIP'] ?? 0);
    }

    public function failed(): bool
    {
        return \in_array('FAIL', array_column($this->targets(), 'status'), true);
    }

    public function json(): string
    {
        $variants = [];
        foreach ($this->variants as $id => $v) {
            if ($v->kind === 'rss') {
                continue;
            }
            $metrics = [];
            foreach ($this->samples->values[$id] ?? [] as $metric => $_) {
                $s = $this->samples->stats($id, $metric);
                $metrics[$metric] = $metric === 'hwm_kb' ? $s
                    : ['n' => $s['n']] + array_map(static fn ($x) => round($x / 1e6, 3), array_diff_key($s, ['n' => 0]));
            }
            $variants[$id] = ['label' => $v->label, 'command' => $v->command(), 'failures' => $this->samples->failures[$id] ?? 0,
                'first_error' => $this->samples->firstError[$id] ?? '', 'metrics' => $metrics];
        }
        $diffs = [
            'extension_load_ms' => self::round($this->diff('ext', 'bare', 'wall')),
            'extension_rss_kb' => $this->diff('ext', 'bare', 'hwm_kb'),
            'tmp_first_hit_over_bare_ms' => self::round($this->diff('tmp', 'bare', 'wall')),
            'dynamo_ours_minus_plain_to_hit_ms' => self::round($this->diff('ours', 'plain', 'to_hit')),
            'dynamo_ours_minus_plain_wall_ms' => self::round($this->diff('ours', 'plain', 'wall')),
        ];

        return json_encode(['bench' => 'lambda_cache-startup', 'time' => gmdate('c'), 'settings' => $this->settings,
            'environment' => $this->environment, 'variants' => $variants, 'differences' => $diffs, 'sizes' => $this->sizes,
            'targets' => $this->targets()], \JSON_UNESCAPED_SLASHES | \JSON_PRESERVE_ZERO_FRACTION | \JSON_INVALID_UTF8_SUBSTITUTE);
    }

    /** Difference of the medians of one metric, null when either is missing. */
    private function diff(string $a, string $b, string $metric): ?float
    {
        $ma = $this->samples->median($a, $metric);
        $mb = $this->samples->median($b, $metric);

        return $ma === null || $mb === null ? null : $ma - $mb;
    }

    private function failureNote(string $id): string
    {
        $n = $this->samples->failures[$id] ?? 0;

        return $n > 0 ? "  {$n} FAILED: " . $this->samples->firstError[$id] : '';
    }

    private static function round(?float $ns): ?float
    {
        return $ns === null ? null : round($ns / 1e6, 3);
    }

    public static function ms(?float $ns): string
    {
        return $ns === null ? '-' : sprintf('%.2f', $ns / 1e6);
    }

    private static function diffMs(?float $ns): string
    {
        return $ns === null ? '-' : sprintf('%+.2f', $ns / 1e6);
    }

    private static function mib(?float $kb): string
    {
        return $kb === null ? '-' : sprintf('%.2f MiB', $kb / 1024);
    }

    private static function diffMib(?float $kb): string
    {
        return $kb === null ? '-' : sprintf('%+.2f MiB', $kb / 1024);
    }

    public static function bytes(?int $n): string
    {
        return $n === null ? '-' : sprintf('%s B (%.2f MiB)', number_format($n), $n / 1048576);
    }
}
