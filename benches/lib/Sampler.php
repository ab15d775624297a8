<?php

declare(strict_types=1);

namespace LcBench;

/**
 * One implementation prepared for one workload. The batch closure runs $n operations in a loop
 * (so the closure call is paid once per batch, not once per operation) and returns how many of
 * them failed their check (a miss, a wrong value, a save that returned false).
 */
final class Subject
{
    public function __construct(
        public readonly \Closure $batch,
        public readonly ?\Closure $beforeSample = null,
        public readonly ?\Closure $between = null,
        public readonly int $maxBatch = 1 << 20,
        public readonly ?\Closure $teardown = null,
    ) {
    }
}

/** Time-budgeted sampling: warm up (calibrating the batch size), then run for a fixed time. */
final class Sampler
{
    private const TARGET_BATCH_NS = 5_000_000;

    /** @param ?\Closure(): ?int $externalCpuNs CPU time of another process (a server) so far, in ns */
    public function __construct(
        private readonly float $seconds,
        private readonly float $warmupSeconds,
        private readonly ?\Closure $externalCpuNs = null,
    ) {
    }

    /**
     * Wall time (hrtime) and this process's CPU time (getrusage user+sys, every thread) are both
     * taken around each timed batch only, so the hooks and the warm-up count in neither; so is
     * the external process's CPU time when a probe was given (null when it cannot be read).
     *
     * @return array{ops_per_sec: float, ops: int, failures: int, seconds: float, cpu_seconds: float,
     *               external_cpu_seconds: ?float}
     */
    public function sample(Subject $subject): array
    {
        if ($subject->beforeSample !== null) {
            ($subject->beforeSample)();
        }
        $n = $this->warmUp($subject);

        $budget = (int) ($this->seconds * 1e9);
        $elapsed = 0;
        $cpu = 0;
        $external = $this->externalCpuNs !== null ? 0 : null;
        $ops = 0;
        $failures = 0;
        $batch = $subject->batch;
        while ($elapsed < $budget) {
            $e0 = $external !== null ? ($this->externalCpuNs)() : null;
            $c0 = self::cpuMicros();
            $t0 = hrtime(true);
            $failures += $batch($n);
            $elapsed += hrtime(true) - $t0;
            $cpu += self::cpuMicros() - $c0;
            if ($external !== null) {
                $e1 = ($this->externalCpuNs)();
                $external = $e0 !== null && $e1 !== null ? $external + ($e1 - $e0) : null;
            }
            $ops += $n;
            if ($subject->between !== null) {
                ($subject->between)();
            }
        }

        return [
            'ops_per_sec' => $ops / ($elapsed / 1e9),
            'ops' => $ops,
            'failures' => $failures,
            'seconds' => $elapsed / 1e9,
            'cpu_seconds' => $cpu / 1e6,
            'external_cpu_seconds' => $external !== null ? $external / 1e9 : null,
        ];
    }

    /** User + system CPU time of this process so far, in microseconds. */
    public static function cpuMicros(): int
    {
        $r = getrusage();

        return ($r['ru_utime.tv_sec'] + $r['ru_stime.tv_sec']) * 1_000_000 + $r['ru_utime.tv_usec'] + $r['ru_stime.tv_usec'];
    }

    /** Runs batches for the warm-up time and returns a batch size that takes ~5 ms. */
    private function warmUp(Subject $subject): int
    {
        $n = 1;
        $batch = $subject->batch;
        $end = hrtime(true) + (int) ($this->warmupSeconds * 1e9);
        do {
            $t0 = hrtime(true);
            $batch($n);
            $dt = max(1, hrtime(true) - $t0);
            if ($subject->between !== null) {
                ($subject->between)();
            }
            $perOp = $dt / $n;
            $n = (int) max(1, min($subject->maxBatch, $n * 4, intdiv(self::TARGET_BATCH_NS, (int) ceil($perOp))));
        } while (hrtime(true) < $end);

        return $n;
    }

    public static function median(array $values): float
    {
        if ($values === []) {
            return 0.0;
        }
        sort($values);
        $count = \count($values);
        $mid = intdiv($count, 2);

        return $count % 2 === 1 ? (float) $values[$mid] : ($values[$mid - 1] + $values[$mid]) / 2;
    }
}

/** Settings from the environment and the command line. */
final class Options
{
    public const WORKLOADS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'w'];

    public function __construct(
        public readonly float $seconds,
        public readonly float $warmup,
        public readonly int $runs,
        public readonly array $only,
        public readonly ?string $jsonFile,
        public readonly bool $strict,
    ) {
    }

    /**
     * @param list<string> $workloads the ids BENCH_ONLY may name (default: bench.php's)
     * @param ?string      $usage     the --help text (default: bench.php's)
     */
    public static function fromEnvironment(array $argv, array $workloads = self::WORKLOADS, ?string $usage = null): self
    {
        $seconds = envNumber('BENCH_SECONDS', 0.5, 0.01, 60.0);
        $runs = envInt('BENCH_RUNS', 5, 1, 51);
        $only = $workloads;
        $env = getenv('BENCH_ONLY');
        if (\is_string($env) && trim($env) !== '') {
            $only = array_values(array_unique(array_map('trim', explode(',', strtolower($env)))));
            $unknown = array_diff($only, $workloads);
            if ($unknown !== []) {
                fail('BENCH_ONLY: unknown workload(s) ' . implode(',', $unknown) . '; known: ' . implode(',', $workloads));
            }
        }
        $usage ??= self::usage();
        $jsonFile = jsonArg($argv, $usage);
        $strict = \in_array(getenv('BENCH_STRICT'), ['1', 'true', 'yes'], true);

        return new self($seconds, min(0.25, max(0.05, $seconds / 2)), $runs, $only, $jsonFile, $strict);
    }

    public static function usage(): string
    {
        return <<<TXT
            usage: php -d extension=target/release/liblambda_cache.so -d apc.enable_cli=1 -d opcache.enable_cli=1 \\
                       benches/bench.php [--json FILE]
            env: BENCH_SECONDS  seconds per sample (default 0.5)
                 BENCH_RUNS     samples per implementation, median reported (default 5)
                 BENCH_ONLY     comma list of workloads a-l and w (default all)
                 BENCH_STRICT=1 exit 2 when a target FAILs
            --json FILE writes the machine-readable result there instead of the final JSON line on stdout.

            TXT;
    }
}
