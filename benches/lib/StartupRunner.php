<?php

declare(strict_types=1);

/*
 * benches/startup.php's measuring side: the process variants, spawning one fresh process per run
 * with the parent's monotonic clock around it, interleaved rounds, statistics, and the sizes of
 * the .so (unstripped, a stripped copy, and the one in the layer zip).
 */

namespace LcBench\Startup;

use function LcBench\progress;

/** Prints the child's VmHWM (kB): the peak-RSS probe of the processes that run no script. */
const RSS_PROBE = 'echo preg_match("/^VmHWM:\\\\s+(\\\\d+)/m", file_get_contents("/proc/self/status"), $m) ? $m[1] : -1;';

/** One kind of process: PHP_BINARY with these arguments, run once per round. */
final class Variant
{
    /**
     * @param list<string> $args after PHP_BINARY
     * @param string       $kind 'bare' (-r '', timed), 'rss' (-r RSS_PROBE, peak RSS of $of) or 'child' (StartupChild.php)
     */
    public function __construct(
        public readonly string $id,
        public readonly string $label,
        public readonly array $args,
        public readonly string $kind,
        public readonly ?string $of = null,
    ) {
    }

    public function command(): string
    {
        return implode(' ', array_map(static fn (string $a) => preg_match('~^[\w./=:,+-]+$~', $a) ? $a : escapeshellarg($a),
            ['php', ...$this->args]));
    }

    /** The command with the .so path shown as <so> and the child script by its base name. */
    public function shortCommand(string $so): string
    {
        return str_replace([$so, __DIR__ . '/'], ['<so>', ''], $this->command());
    }
}

/** Samples per variant and metric (ns, or kB for hwm_kb), failures with their first message. */
final class Samples
{
    /** @var array<string, array<string, list<int>>> */
    public array $values = [];
    /** @var array<string, int> */
    public array $failures = [];
    /** @var array<string, string> */
    public array $firstError = [];

    public function add(string $id, string $metric, int $value): void
    {
        $this->values[$id][$metric][] = $value;
    }

    public function fail(string $id, string $error): void
    {
        $this->failures[$id] = ($this->failures[$id] ?? 0) + 1;
        $this->firstError[$id] ??= $error;
    }

    /** @return ?array{n: int, median: float, p90: float, min: float, max: float} */
    public function stats(string $id, string $metric): ?array
    {
        $values = $this->values[$id][$metric] ?? [];
        if ($values === []) {
            return null;
        }
        sort($values);
        $n = \count($values);
        $mid = intdiv($n, 2);

        return [
            'n' => $n,
            'median' => $n % 2 === 1 ? (float) $values[$mid] : ($values[$mid - 1] + $values[$mid]) / 2.0,
            // Nearest rank: the smallest sample with at least 90 % of the samples at or below it.
            'p90' => (float) $values[max(0, (int) ceil(0.9 * $n) - 1)],
            'min' => (float) $values[0],
            'max' => (float) $values[$n - 1],
        ];
    }

    public function median(string $id, string $metric): ?float
    {
        return $this->stats($id, $metric)['median'] ?? null;
    }
}

/**
 * Runs one process. The parent's hrtime (CLOCK_MONOTONIC, the clock the child's hrtime() reads
 * too) is taken right before proc_open() (fork + exec of PHP_BINARY, no shell) and right after
 * proc_close() has reaped it.
 *
 * @return array{t0: int, t1: int, rc: int, out: string, err: string}
 */
function spawn(array $command): array
{
    $spec = [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']];
    $t0 = hrtime(true);
    $proc = proc_open($command, $spec, $pipes);
    if (!\is_resource($proc)) {
        return ['t0' => $t0, 't1' => hrtime(true), 'rc' => -1, 'out' => '', 'err' => 'proc_open failed'];
    }
    $out = (string) stream_get_contents($pipes[1]);
    $err = (string) stream_get_contents($pipes[2]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    $rc = proc_close($proc);
    $t1 = hrtime(true);

    return ['t0' => $t0, 't1' => $t1, 'rc' => $rc, 'out' => $out, 'err' => $err];
}

/** Records one run of $v; returns false when it failed. */
function record(Variant $v, array $run, Samples $samples): bool
{
    $error = $run['rc'] !== 0 ? "exit code {$run['rc']}" : '';
    $trimmedErr = trim($run['err']);
    if ($trimmedErr !== '') {
        $error = trim($error . ' stderr: ' . substr(strtok($trimmedErr, "\n") ?: '', 0, 200));
    }
    if ($v->kind === 'bare') {
        if ($error === '' && $run['out'] !== '') {
            $error = 'unexpected output: ' . substr($run['out'], 0, 100);
        }
    } elseif ($v->kind === 'rss') {
        if ($error === '' && ctype_digit(trim($run['out']))) {
            $samples->add($v->of, 'hwm_kb', (int) trim($run['out']));
        } else {
            $error = $error !== '' ? $error : 'no VmHWM in: ' . substr($run['out'], 0, 100);
        }
    } else {
        $error = recordChild($v, $run, $samples, $error);
    }
    if ($error !== '') {
        $samples->fail($v->id, $error);

        return false;
    }
    if ($v->kind !== 'rss') {
        $samples->add($v->id, 'wall', $run['t1'] - $run['t0']);
    }

    return true;
}

/** The child's JSON line: hrtime marks [start, autoloaders, pool, hit], VmHWM, its own check. */
function recordChild(Variant $v, array $run, Samples $samples, string $error): string
{
    $data = json_decode(trim($run['out']), true);
    if (!\is_array($data) || !isset($data['marks'], $data['ok'])) {
        return trim($error . ' no result line: ' . substr($run['out'], 0, 150));
    }
    if ($data['ok'] !== true || \count($data['marks']) !== 4) {
        return trim(($data['error'] ?? '') . ' ' . $error);
    }
    [$start, $boot, $pool, $hit] = $data['marks'];
    if ($start < $run['t0'] || $hit > $run['t1']) {
        return 'child hrtime marks outside the parent-measured interval (not the same clock?)';
    }
    if ($error !== '') {
        return $error;
    }
    $samples->add($v->id, 'to_script', $start - $run['t0']);
    $samples->add($v->id, 'autoload', $boot - $start);
    $samples->add($v->id, 'pool', $pool - $boot);
    $samples->add($v->id, 'get', $hit - $pool);
    $samples->add($v->id, 'to_hit', $hit - $run['t0']);
    $samples->add($v->id, 'after_hit', $run['t1'] - $hit);
    $samples->add($v->id, 'hwm_kb', (int) $data['hwm_kb']);

    return '';
}

/**
 * $warmup untimed rounds, then $runs rounds; each round runs every variant once in a new random
 * order (rss probes in the first $rssRuns rounds only), so drift hits all of them alike.
 *
 * @param list<Variant> $variants
 */
function runRounds(array $variants, int $runs, int $warmup, int $rssRuns): Samples
{
    $samples = new Samples();
    $scratch = new Samples();
    $reported = [];
    for ($round = 1 - $warmup; $round <= $runs; ++$round) {
        $order = array_values(array_filter($variants, static fn (Variant $v) => $v->kind !== 'rss' || $round <= $rssRuns));
        shuffle($order);
        foreach ($order as $v) {
            $run = spawn([PHP_BINARY, ...$v->args]);
            $into = $round >= 1 ? $samples : $scratch;
            if (!record($v, $run, $into) && !isset($reported[$v->id])) {
                $reported[$v->id] = true;
                progress("{$v->id}: run failed: " . $into->firstError[$v->id]);
            }
        }
        if ($round === 0 || ($round > 0 && $round % 10 === 0)) {
            progress($round === 0 ? "warm-up done ({$warmup} rounds)" : "round {$round}/{$runs}");
        }
    }
    foreach ($scratch->failures as $id => $n) {
        $samples->firstError[$id] ??= '(warm-up) ' . $scratch->firstError[$id];
    }

    return $samples;
}

/** Runs a helper child (prepare, cleanup) and returns its result line, or throws. */
function helper(array $args, string $what): array
{
    $run = spawn([PHP_BINARY, ...$args]);
    $data = json_decode(trim($run['out']), true);
    if ($run['rc'] !== 0 || !\is_array($data) || ($data['ok'] ?? false) !== true) {
        throw new \RuntimeException("{$what} failed (exit {$run['rc']}): "
            . trim(($data['error'] ?? $run['out']) . ' ' . substr(trim($run['err']), 0, 300)));
    }

    return $data;
}

/**
 * Sizes of the extension: the file as built, a copy stripped like layer/build.sh does, and the
 * lambda_cache.so inside the layer zip (read from the zip's central directory, with its CRC-32
 * compared against the stripped copy).
 *
 * @return array{unstripped: int, stripped: ?int, strip_error: string, layer_zip: string, layer: ?int, layer_same: ?bool}
 */
function sizes(string $so, string $scratchDir, string $layerZip): array
{
    $out = ['unstripped' => (int) filesize($so), 'stripped' => null, 'strip_error' => '',
        'layer_zip' => $layerZip, 'layer' => null, 'layer_same' => null];
    $copy = $scratchDir . '/lambda_cache.stripped.so';
    $run = spawn(['strip', '--strip-unneeded', '-o', $copy, $so]);
    if ($run['rc'] === 0 && is_file($copy)) {
        $out['stripped'] = (int) filesize($copy);
    } else {
        $out['strip_error'] = 'strip --strip-unneeded failed: ' . trim($run['err'] ?: "exit {$run['rc']}");
    }
    $entry = is_file($layerZip) ? zipEntry($layerZip, 'bref/extensions/lambda_cache.so') : null;
    if ($entry !== null) {
        $out['layer'] = $entry['size'];
        $out['layer_same'] = $out['stripped'] !== null ? sprintf('%08x', $entry['crc']) === hash_file('crc32b', $copy) : null;
    }
    @unlink($copy);

    return $out;
}

/** @return ?array{size: int, crc: int} the uncompressed size and CRC-32 of one zip entry */
function zipEntry(string $zip, string $name): ?array
{
    $data = (string) file_get_contents($zip);
    $eocd = strrpos($data, "PK\x05\x06");
    if ($eocd === false) {
        return null;
    }
    ['entries' => $entries, 'offset' => $pos] = unpack('ventries/x4/Voffset', $data, $eocd + 10);
    for ($i = 0; $i < $entries && substr($data, $pos, 4) === "PK\x01\x02"; ++$i) {
        $h = unpack('Vcrc/Vcsize/Vsize/vnlen/vxlen/vclen', $data, $pos + 16);
        if (substr($data, $pos + 46, $h['nlen']) === $name) {
            return ['size' => $h['size'], 'crc' => $h['crc']];
        }
        $pos += 46 + $h['nlen'] + $h['xlen'] + $h['clen'];
    }

    return null;
}
