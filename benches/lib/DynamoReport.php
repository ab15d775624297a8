<?php

declare(strict_types=1);

namespace LcBench;

/**
 * dynamo.php's report: per workload, ops/s, wall us per op and PHP-process CPU us per op for
 * each implementation with ours/peer ratios (and, for the RTT workloads, what the proxy saw);
 * the targets; the JSON record.
 */
final class DynamoReport
{
    /** @var array<string, array> workload id => result (see dynamo.php) */
    private array $results = [];

    /** @param array<string, string> $titles workload id => title */
    public function __construct(
        private readonly array $environment,
        private readonly Options $options,
        private readonly array $titles,
    ) {
    }

    public function add(string $workload, array $result): void
    {
        $this->results[$workload] = $result;
    }

    public function header(): string
    {
        $e = $this->environment;
        $lines = [
            'LambdaCache DynamoDB benchmark: DynamoDbCachePool vs a plain PHP client, side by side in one run',
            sprintf('  PHP %s, lambda_cache %s, libcurl %s, %d CPUs, load average at start %s', $e['php'],
                $e['lambda_cache'], $e['curl'], $e['cpus'], $e['loadavg']),
            sprintf('  emulator: %s at %s%s, warmed up first with %s untimed requests (JIT)', $e['emulator'],
                $e['endpoint'], $e['emulators'] > 1 ? sprintf(' (and %d more for the RTT rows)', $e['emulators'] - 1) : '',
                Report::n($e['emulator_warmup_requests'])),
            sprintf('  table %s (created by %s), region %s', $e['table'], $e['table_created_by'], $e['region']),
            '  Absolute latencies are the emulator\'s: dynalite is single-threaded JavaScript in another process, so',
            '  ops/s and wall times mostly measure it, not the clients. What compares the clients is "PHP CPU us/op":',
            '  user+sys CPU time of this PHP process (getrusage, every thread) around the timed batches, per op.',
            '  "emulator CPU us/op": the emulator processes\' CPU time (their threads\' /proc schedstat) over the same batches.',
            '  plain client: ext-curl with one handle kept (connection reuse); SigV4 written from the AWS documentation,',
            '  checked at start against AWS\'s SigV4 test vectors (dynalite does not verify signatures); JSON protocol;',
            '  serialize()d values in a B attribute; BatchGetItem chunks of 100 sent one after the other.',
            sprintf('  each figure: median of %d samples x %.2f s (after %.2f s warm-up per sample), rounds interleaved, '
                . 'who goes first alternating',
                $this->options->runs, $this->options->seconds, $this->options->warmup),
        ];
        if (($rtt = $e['rtt_proxy'] ?? null) !== null) {
            array_push($lines,
                sprintf('  RTT rows (e, f, g): the reads of a, c and d again, both clients pointed at a loopback proxy '
                    . '(dev/FaultProxy.php, mode delay:MS, pid %d, %s)', $rtt['pid'], $rtt['endpoint']),
                sprintf('  that holds every HTTP request %d ms before it passes it on: a simulated network round trip, paid per',
                    $rtt['ms']),
                '  request (also on kept-alive connections), any number of connections at once (BENCH_RTT_MS sets it).',
                '  On real DynamoDB a call costs mostly such round trips: the plain client pays one per BatchGetItem chunk',
                '  (10 for getItems(1000)), ours sends the chunks of one call at once on separate connections (about one).',
                $rtt['emulators'] > 1
                    ? sprintf('  Behind the proxy, %d emulators hold the same items and take its requests in turn (DYNALITE_INSTANCES):',
                        $rtt['emulators'])
                    : '  Behind the proxy, one emulator (DYNALITE_INSTANCES=2 gives it replicas that take requests in turn):',
                '  dynalite is single-threaded and serves concurrent chunks one after another, where DynamoDB serves them in',
                '  parallel; each replica still does so for the chunks it gets, so g\'s wall time holds that serial CPU too',
                '  ("emulator CPU us/op", all emulators). Connects are not delayed (both clients keep connections alive).',
                '  Under each RTT table, "proxy": the most requests it held at once and the most connections that carried',
                '  requests, in any one sample of each implementation.',
            );
        }

        return implode("\n", $lines) . "\n";
    }

    public function table(string $id): string
    {
        $r = $this->results[$id];
        $out = sprintf("\n%s. %s  [ops/s = %s]\n   %s\n", $id, $r['title'], $r['unit'], $r['note']);
        $row = "  %-31s %9s %11s %14s %17s %19s%s\n";
        $out .= sprintf($row, 'implementation', 'ops/s', 'wall us/op', 'PHP CPU us/op', 'PHP CPU min..max',
            'emulator CPU us/op', '');
        foreach ($r['impls'] as $m) {
            if ($m['status'] !== 'ok') {
                $out .= sprintf("  %-31s %s\n", $m['label'], strtoupper($m['status']) . ': ' . $m['message']);
                continue;
            }
            $out .= sprintf($row, $m['label'], Report::n($m['ops_per_sec']), self::us($m['wall_us']),
                self::us($m['cpu_us']), self::us($m['cpu_us_min']) . '..' . self::us($m['cpu_us_max']),
                $m['emulator_cpu_us'] !== null ? self::us($m['emulator_cpu_us']) : '-', self::problems($m));
        }
        $ours = $r['impls']['ours'] ?? null;
        $peer = $r['impls']['plain'] ?? null;
        if ($ours !== null && $peer !== null && $ours['status'] === 'ok' && $peer['status'] === 'ok') {
            $out .= sprintf($row, 'ours/peer', Report::formatRatio(self::ratio($ours['ops_per_sec'], $peer['ops_per_sec'])),
                Report::formatRatio(self::ratio($ours['wall_us'], $peer['wall_us'])),
                Report::formatRatio(self::ratio($ours['cpu_us'], $peer['cpu_us'])), '',
                $ours['emulator_cpu_us'] !== null && $peer['emulator_cpu_us'] !== null
                    ? Report::formatRatio(self::ratio($ours['emulator_cpu_us'], $peer['emulator_cpu_us'])) : '-',
                '   (ops/s: higher is better; times: lower)');
        }
        $peaks = [];
        foreach ($r['impls'] as $id => $m) {
            if ($m['status'] === 'ok' && isset($m['proxy'])) {
                $peaks[] = sprintf('%s up to %d requests held at once over %d connections', $id,
                    $m['proxy']['max_held'], $m['proxy']['connections']);
            }
        }
        if ($peaks !== []) {
            $out .= '  proxy, most in one sample: ' . implode('; ', $peaks) . "\n";
        }

        return $out;
    }

    /** @return list<array{id: string, text: string, value: ?float, need: string, status: string, why: string}> */
    public function targets(): array
    {
        $a = $this->results['a']['impls'] ?? null;
        $cpu = ['id' => 'a_cpu', 'text' => 'a. PHP-process CPU per getItem() hit: ours < plain client (ours/peer)',
            'value' => null, 'need' => '< 1.00x', 'status' => 'SKIP', 'why' => ''];
        if ($a === null) {
            $cpu['why'] = 'workload a not run (BENCH_ONLY)';
        } elseif (($why = self::unusable($a['ours'], 'ours')) !== null) {
            [$cpu['status'], $cpu['why']] = [$a['ours']['status'] === 'skipped' ? 'SKIP' : 'FAIL', $why];
        } elseif (($why = self::unusable($a['plain'], 'peer')) !== null) {
            $cpu['why'] = $why;
        } else {
            $cpu['value'] = self::ratio($a['ours']['cpu_us'], $a['plain']['cpu_us']);
            $cpu['status'] = $cpu['value'] < 1.0 ? 'PASS' : 'FAIL';
        }

        // The target's measure is g/f: a round trip per request, as on a network, and emulators
        // that serve concurrent requests concurrently, as DynamoDB does. d/c is kept as a reference:
        // straight at one single-threaded emulator it measures how fast that emulator is.
        $rttMs = $this->environment['rtt_proxy']['ms'] ?? null;
        $emulators = $this->environment['rtt_proxy']['emulators'] ?? 1;
        $rtt = $this->scaling('g_rtt_scaling', 'f', 'g', 'g/f. ours: getItems(1000) wall <= 2 x getItems(100) wall'
            . ($rttMs !== null ? sprintf(' (RTT %d ms, %d emulator%s)', $rttMs, $emulators, $emulators > 1 ? 's' : '') : ''),
            (int) $rttMs * 1000, $emulators);
        $scale = $this->scaling('d_scaling', 'c', 'd', 'd/c. reference: the same straight at one emulator, no round trip', 0, 1);
        if ($scale['status'] !== 'SKIP') {
            $scale['status'] = 'INFO';
        }

        return [$cpu, $rtt, $scale];
    }

    /**
     * ours' getItems(1000) wall time ($large) at most twice its getItems(100) wall time ($small).
     * When it is not, says whether the emulators alone explain it: the round trip ($rttUs, the
     * proxy's hold) plus the emulators' CPU per getItems(1000) call spread over $emulators (each
     * serves the chunks it gets one after another) already exceed the bound.
     */
    private function scaling(string $id, string $small, string $large, string $text, int $rttUs, int $emulators): array
    {
        $c = $this->results[$small]['impls']['ours'] ?? null;
        $d = $this->results[$large]['impls']['ours'] ?? null;
        $scale = ['id' => $id, 'text' => $text, 'value' => null, 'need' => '<= 2.00x', 'status' => 'SKIP', 'why' => ''];
        if ($c === null || $d === null) {
            $scale['why'] = "workloads {$small} and {$large} not both run (BENCH_ONLY)";
        } elseif (($why = self::unusable($c, "ours ({$small})") ?? self::unusable($d, "ours ({$large})")) !== null) {
            [$scale['status'], $scale['why']] = [$c['status'] === 'skipped' ? 'SKIP' : 'FAIL', $why];
        } else {
            $scale['value'] = self::ratio($d['wall_us'], $c['wall_us']);
            $scale['status'] = $scale['value'] <= 2.0 ? 'PASS' : 'FAIL';
            $busy = $d['emulator_cpu_us'] !== null ? $d['emulator_cpu_us'] / max(1, $emulators) : null;
            if ($scale['status'] === 'FAIL' && $busy !== null && $rttUs + $busy > 2 * $c['wall_us']) {
                $scale['why'] = sprintf('bound by the emulator%s: %s%s us of emulator CPU per getItems(1000) call%s '
                    . 'exceed%s 2 x %s us; dynalite serves the concurrent chunks it gets one after another',
                    $emulators > 1 ? 's' : '', $rttUs > 0 ? 'the round trip (' . self::us($rttUs) . ' us) plus ' : '',
                    self::us($busy), $emulators > 1 ? sprintf(' and emulator (%s us over %d)', self::us($d['emulator_cpu_us']), $emulators) : '',
                    $rttUs > 0 ? '' : 's', self::us($c['wall_us']));
            }
        }

        return $scale;
    }

    public function summary(): string
    {
        $out = "\nTargets (measured in this run)\n";
        $targets = $this->targets();
        foreach ($targets as $t) {
            $out .= sprintf("  %-82s %8s  need %-8s %s%s\n", $t['text'], Report::formatRatio($t['value']), $t['need'],
                $t['status'], $t['why'] !== '' ? " ({$t['why']})" : '');
        }
        $out .= Report::tally($targets);

        return $out;
    }

    public function failed(): bool
    {
        return Report::anyFailed($this->targets());
    }

    public function json(): string
    {
        $settings = Report::settings($this->options) + ['rtt_ms' => $this->environment['rtt_proxy']['ms'] ?? null];

        return Report::encode('lambda_cache-dynamodb', $settings, $this->environment, $this->results, $this->targets());
    }

    private static function unusable(array $m, string $who): ?string
    {
        if ($m['status'] !== 'ok') {
            return "{$who}: " . ($m['message'] !== '' ? $m['message'] : $m['status']);
        }
        if ($m['failures'] > 0 || $m['warnings'] > 0) {
            return "{$who}: {$m['failures']} failed checks, {$m['warnings']} warnings";
        }

        return null;
    }

    private static function problems(array $m): string
    {
        $out = '';
        if ($m['failures'] > 0) {
            $out .= sprintf('  CHECK FAILED: %d bad of %d ops', $m['failures'], $m['ops']);
        }
        if ($m['warnings'] > 0) {
            $out .= sprintf('  %d WARNINGS (first: %s)', $m['warnings'], $m['first_warning']);
        }

        return $out;
    }

    private static function ratio(float $ours, float $peer): ?float
    {
        return $peer > 0 ? $ours / $peer : null;
    }

    private static function us(float $value): string
    {
        return number_format($value, $value >= 1000 ? 0 : 1, '.', ',');
    }
}

/** Facts about this run that change the numbers; printed in the header and stored in the JSON. */
/** @param ?array{ms: int, endpoint: string, pid: int} $rttProxy the RTT proxy, when e-g run */
function dynamoEnvironment(string $endpoint, array $emulator, string $table, string $createdBy, ?array $rttProxy = null): array
{
    return [
        'php' => \PHP_VERSION . (\PHP_ZTS ? ' ZTS' : ' NTS'),
        'lambda_cache' => phpversion('lambda_cache') ?: (\extension_loaded('lambda_cache') ? 'loaded' : 'not loaded'),
        'curl' => \function_exists('curl_version') ? (string) (curl_version()['version'] ?? '?') : 'missing',
        'igbinary' => \extension_loaded('igbinary') ? (string) phpversion('igbinary') : 'not loaded',
        'endpoint' => $endpoint,
        'emulator' => $emulator['name'],
        'emulator_pid' => $emulator['pid'],
        'emulator_warmup_requests' => $emulator['warmup_requests'] ?? 0,
        'emulators' => $emulator['replicas'] ?? 1,
        'rtt_proxy' => $rttProxy,
        'table' => $table,
        'table_created_by' => $createdBy,
        'region' => (string) (getenv('AWS_REGION') ?: 'us-east-1'),
        'cpus' => (int) (@shell_exec('nproc 2>/dev/null') ?: 0),
        'loadavg' => implode(' ', array_map(static fn ($l) => sprintf('%.2f', $l), sys_getloadavg() ?: [])),
    ];
}

/**
 * The server behind a loopback endpoint: the process that listens on its port (from /proc:
 * socket inode -> pid -> command line), named e.g. "dynalite 3.2.2 (node v20.20.2, pid 123)";
 * BENCH_EMULATOR replaces the name. Best effort: pid null and "unknown" when /proc does not tell.
 *
 * @return array{name: string, pid: ?int}
 */
function findEmulator(string $endpoint): array
{
    $port = (int) (parse_url($endpoint, \PHP_URL_PORT) ?? 0);
    $pid = $port > 0 ? listenerPid($port) : null;
    $named = getenv('BENCH_EMULATOR');
    if (\is_string($named) && $named !== '') {
        return ['name' => $named, 'pid' => $pid];
    }
    if ($pid === null) {
        return ['name' => 'unknown emulator (set BENCH_EMULATOR to name it)', 'pid' => null];
    }
    $args = explode("\0", rtrim((string) @file_get_contents("/proc/{$pid}/cmdline"), "\0"));
    $exe = (string) @readlink("/proc/{$pid}/exe");
    foreach ($args as $arg) {
        if (!str_contains($arg, 'dynalite') || str_contains($arg, "\n")) {
            continue;
        }
        for ($dir = is_dir($arg) ? $arg : \dirname($arg); $dir !== '/' && $dir !== '.'; $dir = \dirname($dir)) {
            $package = json_decode((string) @file_get_contents("{$dir}/package.json"), true);
            if (($package['name'] ?? '') === 'dynalite') {
                $node = str_starts_with(basename($exe), 'node') ? trim((string) @shell_exec(escapeshellarg($exe) . ' --version')) : '';
                $name = sprintf('dynalite %s (%spid %d)', $package['version'] ?? '?', $node !== '' ? "node {$node}, " : '', $pid);

                return ['name' => $name, 'pid' => $pid];
            }
        }
    }

    return ['name' => sprintf('%s (pid %d)', basename($args[0] ?? '') ?: 'unknown', $pid), 'pid' => $pid];
}

/** The pid of the process holding the TCP socket that listens on $port, if /proc shows it. */
function listenerPid(int $port): ?int
{
    $inodes = [];
    foreach (['/proc/net/tcp', '/proc/net/tcp6'] as $table) {
        foreach (@file($table) ?: [] as $i => $line) {
            $f = preg_split('/\s+/', trim($line));
            if ($i > 0 && \count($f) > 9 && $f[3] === '0A' && hexdec(substr($f[1], strrpos($f[1], ':') + 1)) === $port) {
                $inodes["socket:[{$f[9]}]"] = true;
            }
        }
    }
    if ($inodes === []) {
        return null;
    }
    foreach (glob('/proc/[0-9]*', \GLOB_ONLYDIR) ?: [] as $proc) {
        foreach (@scandir("{$proc}/fd") ?: [] as $fd) {
            if (isset($inodes[(string) @readlink("{$proc}/fd/{$fd}")])) {
                return (int) basename($proc);
            }
        }
    }

    return null;
}

/**
 * CPU time of the processes (the emulators) so far in ns: the sum of their threads' run time from
 * /proc/PID/task/TID/schedstat (ns resolution; /proc/PID/stat counts 10 ms ticks). Null when
 * one is unreadable (no such process, no schedstat).
 *
 * @param list<?int> $pids
 * @return ?\Closure(): ?int
 */
function processCpuProbe(array $pids): ?\Closure
{
    foreach ($pids as $pid) {
        if ($pid === null || !is_readable("/proc/{$pid}/task/{$pid}/schedstat")) {
            return null;
        }
    }

    return static function () use ($pids): ?int {
        $total = 0;
        foreach ($pids as $pid) {
            foreach (@scandir("/proc/{$pid}/task") ?: [] as $tid) {
                if ($tid[0] !== '.' && ($line = @file_get_contents("/proc/{$pid}/task/{$tid}/schedstat")) !== false) {
                    $total += (int) $line;
                }
            }
        }

        return $total > 0 ? $total : null;
    };
}
