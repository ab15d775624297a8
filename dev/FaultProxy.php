<?php

declare(strict_types=1);

namespace LambdaCache\Dev;

/**
 * A loopback TCP proxy for fault injection and simulated latency, in a child PHP process
 * (FaultProxyServer), between a client and loopback HTTP endpoints (DynamoDB emulators). Used by
 * the tests (faults) and by benches/dynamo.php (the round trip of a network: mode `delay:MS`).
 *
 * With several upstreams (emulators that hold the same data), requests go to them in turn, one
 * request each, whatever connection they came on: dynalite serves one request at a time,
 * DynamoDB many at once.
 *
 * Modes, switched with setMode() (effective for the next request, also on kept-alive connections):
 * - `pass`: forward requests and relay the answers;
 * - `refuse`: stop listening and close every connection, so connects are refused;
 * - `reset`: read each request, then close the connection with a TCP RST (SO_LINGER 0 when
 *   ext-sockets is there, else a plain close) without answering;
 * - `delay:MS`: forward each request MS milliseconds after its last byte arrived (a timer in the
 *   proxy's one event loop: any number of requests wait at the same time, none for another;
 *   requests still waiting when the mode changes, or whose client has gone, are dropped, never
 *   forwarded);
 * - `http500`: answer 500 with a DynamoDB InternalServerError body;
 * - `throttle`: answer 400 ProvisionedThroughputExceededException;
 * - `denied`: answer 400 AccessDeniedException.
 * dropConnections() closes the open connections once (a server-side idle close). stats() gives the
 * counters the bench reads around each sample.
 *
 * The child stops with stop(), when this object is destroyed, when the parent process is gone,
 * or after $maxLifetime seconds.
 */
final class FaultProxy
{
    /** @var resource|null */
    private $proc;
    private int $port;
    private int $generation = 0;
    private int $drop = 0;
    private string $mode;
    private int $statsEpoch = 0;
    private int $pid;

    private function __construct($proc, private string $dir, string $mode)
    {
        $this->proc = $proc;
        $this->mode = $mode;
        $status = $this->waitForStatus(static fn (array $s) => ($s['port'] ?? 0) > 0, 'start');
        [$this->port, $this->pid] = [(int) $status['port'], (int) $status['pid']];
    }

    /**
     * Starts a proxy on 127.0.0.1 (a port the OS picks) forwarding to $upstreams (each
     * http://127.x.x.x:PORT or http://localhost:PORT), in $mode. The proxy runs on the PHP of
     * LAMBDA_CACHE_HELPER_PHP_CMD (split at whitespace) when set, else this one, with `-n`.
     *
     * @param string|non-empty-list<string> $upstreams
     */
    public static function start(string|array $upstreams, float $maxLifetime = 900.0, string $mode = 'pass'): self
    {
        self::checkMode($mode);
        $targets = [];
        foreach ((array) $upstreams as $upstream) {
            $parts = parse_url($upstream);
            $host = $parts['host'] ?? '';
            $host = $host === 'localhost' ? '127.0.0.1' : $host;
            if (($parts['scheme'] ?? '') !== 'http' || !isset($parts['port'])
                || preg_match('/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/', $host) !== 1) {
                throw new \InvalidArgumentException("FaultProxy forwards to loopback http://127.x.x.x:PORT endpoints only, got '{$upstream}'");
            }
            $targets[] = "{$host}:{$parts['port']}";
        }
        if ($targets === []) {
            throw new \InvalidArgumentException('FaultProxy needs at least one upstream');
        }
        $dir = sprintf('%s/lambda-cache-fault-proxy-%d-%s', sys_get_temp_dir(), getmypid(), bin2hex(random_bytes(8)));
        if (!mkdir($dir, 0700)) {
            throw new \RuntimeException("FaultProxy: cannot create {$dir}");
        }
        file_put_contents("{$dir}/control.json", json_encode(['mode' => $mode, 'generation' => 0, 'drop' => 0, 'stats' => 0]));
        $cmd = [...self::helperCommand(), '-n'];
        [$extensionDir, $builtIn] = self::helperModules();
        foreach (['sockets', 'posix'] as $ext) {
            if (!in_array($ext, $builtIn, true)) {
                $file = "{$extensionDir}/{$ext}.so";
                if (is_file($file)) {
                    array_push($cmd, '-d', "extension={$file}");
                }
            }
        }
        $code = 'require $argv[1]; LambdaCache\\Dev\\FaultProxyServer::main(array_slice($argv, 2));';
        array_push(
            $cmd, '-d', 'display_errors=stderr', '-d', 'error_reporting=-1', '-r', $code, '--',
            __DIR__ . '/FaultProxyServer.php', implode(',', $targets), "{$dir}/control.json", "{$dir}/status.json",
            (string) getmypid(), (string) $maxLifetime
        );
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "{$dir}/stdout.txt", 'w'], 2 => ['file', "{$dir}/stderr.txt", 'w']], $pipes);
        if (!is_resource($proc)) {
            self::removeDir($dir);
            throw new \RuntimeException('FaultProxy: cannot start ' . implode(' ', self::helperCommand()));
        }
        return new self($proc, $dir, $mode);
    }

    /** @return list<string> */
    private static function helperCommand(): array
    {
        $cmd = trim((string) getenv('LAMBDA_CACHE_HELPER_PHP_CMD'));
        return $cmd === '' ? [PHP_BINARY] : preg_split('/\s+/', $cmd);
    }

    private static function checkMode(string $mode): void
    {
        if (!in_array($mode, ['pass', 'refuse', 'reset', 'http500', 'throttle', 'denied'], true)
            && preg_match('/^delay:\d+$/', $mode) !== 1) {
            throw new \InvalidArgumentException("FaultProxy: unknown mode '{$mode}'");
        }
    }

    private static function removeDir(string $dir): void
    {
        array_map(static fn (string $file) => @unlink($file), glob("{$dir}/*") ?: []);
        @rmdir($dir);
    }

    /** @return array{0: string, 1: list<string>} the helper PHP's extension_dir and what `php -n` has built in */
    private static function helperModules(): array
    {
        static $modules = null;
        if ($modules === null) {
            $cmd = implode(' ', array_map('escapeshellarg', self::helperCommand()));
            $out = (string) shell_exec($cmd . ' -n -r ' . escapeshellarg('echo ini_get("extension_dir"), "\n", implode("\n", get_loaded_extensions());') . ' 2>/dev/null');
            $lines = explode("\n", trim($out));
            $modules = [rtrim((string) array_shift($lines), '/'), array_map('strtolower', array_map('trim', $lines))];
        }
        return $modules;
    }

    public function endpoint(): string
    {
        return "http://127.0.0.1:{$this->port}";
    }

    public function port(): int
    {
        return $this->port;
    }

    /** The proxy process's pid. */
    public function pid(): int
    {
        return $this->pid;
    }

    public function mode(): string
    {
        return $this->mode;
    }

    /** Switches the mode and waits until the proxy applies it. */
    public function setMode(string $mode): void
    {
        self::checkMode($mode);
        $this->mode = $mode;
        $this->writeControl(false);
    }

    /** Closes every open connection once (FIN, or RST with $reset), as a server closing idle connections. */
    public function dropConnections(bool $reset = false): void
    {
        $this->drop++;
        $this->writeControl($reset);
    }

    /**
     * Requests seen so far (complete HTTP requests, whatever the mode did with them). The proxy
     * records each one before it answers or forwards it, so the count is up to date as soon as
     * the call that sent them has returned.
     */
    public function requestCount(): int
    {
        return (int) ($this->status()['requests'] ?? 0);
    }

    /**
     * DynamoDB operations seen so far, e.g. ['GetItem' => 3, 'BatchGetItem' => 2] (up to date
     * like requestCount()).
     *
     * @return array<string, int>
     */
    public function operations(): array
    {
        $out = [];
        foreach ((array) ($this->status()['targets'] ?? []) as $target => $count) {
            $name = (string) $target;
            $name = str_contains($name, '.') ? substr($name, strrpos($name, '.') + 1) : $name;
            $out[$name] = ($out[$name] ?? 0) + (int) $count;
        }
        ksort($out);
        return $out;
    }

    /**
     * Requests so far (in all and per upstream, in the order given to start()), connections
     * accepted and open; since the previous call to stats(): the most requests held at one time
     * (delay mode) and how many connections carried requests.
     *
     * @return array{requests: int, accepted: int, open: int, max_held: int, used: int, per_upstream: list<int>}
     */
    public function stats(): array
    {
        $this->statsEpoch++;
        $this->writeControl(false);
        $s = $this->status();
        return ['requests' => (int) $s['requests'], 'accepted' => (int) $s['accepted'], 'open' => (int) $s['open'],
            'max_held' => (int) $s['window']['max_held'], 'used' => (int) $s['window']['used'],
            'per_upstream' => array_map('intval', $s['per_upstream'])];
    }

    public function stop(): void
    {
        if ($this->proc === null) {
            return;
        }
        ChildProcess::stop($this->proc, 15, 3.0);
        $this->proc = null;
        self::removeDir($this->dir);
    }

    public function __destruct()
    {
        $this->stop();
    }

    private function writeControl(bool $reset): void
    {
        $this->generation++;
        $control = json_encode(['mode' => $this->mode, 'generation' => $this->generation, 'drop' => $this->drop, 'dropReset' => $reset,
            'stats' => $this->statsEpoch]);
        $tmp = "{$this->dir}/control.json.tmp";
        file_put_contents($tmp, $control);
        rename($tmp, "{$this->dir}/control.json");
        $generation = $this->generation;
        $this->waitForStatus(static fn (array $s) => ($s['generation'] ?? -1) === $generation, "mode {$this->mode}");
    }

    private function status(): array
    {
        $status = json_decode((string) @file_get_contents("{$this->dir}/status.json"), true);
        return is_array($status) ? $status : [];
    }

    private function waitForStatus(callable $done, string $what): array
    {
        $deadline = microtime(true) + 10.0;
        while (microtime(true) < $deadline) {
            $status = $this->status();
            if ($status !== [] && $done($status)) {
                return $status;
            }
            if ($this->proc === null || !proc_get_status($this->proc)['running']) {
                break;
            }
            usleep(2000);
        }
        $stderr = (string) @file_get_contents("{$this->dir}/stderr.txt");
        throw new \RuntimeException("FaultProxy: no acknowledgement of {$what}; status "
            . json_encode($this->status()) . "; proxy stderr:\n{$stderr}");
    }
}
