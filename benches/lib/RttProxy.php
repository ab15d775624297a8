<?php

declare(strict_types=1);

/*
 * dynamo.php's simulated network: a loopback TCP proxy, in a child PHP process, that holds every
 * HTTP request for a fixed time before it forwards it to the emulator, the way a round trip to
 * real DynamoDB delays every call. Purpose-built for the bench rather than php-tests'
 * FaultProxyServer (whose delay:MS mode holds requests the same way but polls a control file and
 * rewrites a status file in its loop, writes with blocking sockets, and lives in the test suite).
 *
 * - One event loop (stream_select over the listener, every client and upstream socket and the
 *   control pipe), non-blocking sockets with write buffers: nothing ever waits for one connection.
 * - Requests are delimited (Content-Length or chunked body) so the delay applies to every request,
 *   also on kept-alive connections, counted from the moment its last byte arrived; a held request
 *   is a timer in the loop (the select timeout is the nearest due time), never a sleep.
 *   Responses are relayed as they come. Holding the request for the whole round trip gives each
 *   exchange the latency of a real one (half each way). Connects are not delayed: both clients
 *   keep their connections alive, so that cost is paid once, not per call.
 * - Listens on 127.0.0.1 (a port the OS picks) and forwards to a 127.x.x.x upstream only.
 * - Stops by itself when the parent goes (end of its control pipe, or another parent pid) or
 *   after a maximum lifetime.
 *
 * - With several upstreams (emulators that hold the same data), requests go to them in turn,
 *   whatever connection they came on: dynalite serves one request at a time, DynamoDB many at once.
 *
 * The child's event loop is RttProxyServer.php. Control pipe (the child's stdin): "stats\n" answers
 * one JSON line on stdout (requests and connections accepted so far, connections open now,
 * requests per upstream; since the previous "stats": the most requests held at one time and how
 * many connections carried requests), which dynamo.php reads around every sample.
 */

namespace LcBench;

/** The parent's handle on the proxy process. */
final class RttProxy
{
    /** @var resource|null */
    private $proc;
    /** @var array<int, resource> */
    private array $pipes;
    private int $port;
    private int $pid;

    /** @param array<int, resource> $pipes */
    private function __construct($proc, array $pipes, public readonly int $delayMs)
    {
        $this->proc = $proc;
        $this->pipes = $pipes;
        $line = $this->readLine(10.0);
        if ($line === null || preg_match('/^listening (\d+) (\d+)$/', $line, $m) !== 1) {
            $this->stop();
            throw new \RuntimeException('RTT proxy did not start' . ($line !== null ? ": {$line}" : ' within 10 s'));
        }
        [$this->port, $this->pid] = [(int) $m[1], (int) $m[2]];
    }

    /**
     * Starts a proxy on 127.0.0.1 that forwards to $upstreams (each http://127.x.x.x:PORT or
     * http://localhost:PORT), in turn, one request each, so with several emulators holding the
     * same data, concurrent requests are served concurrently.
     *
     * @param non-empty-list<string> $upstreams
     */
    public static function start(array $upstreams, int $delayMs, float $maxLifetimeSeconds): self
    {
        $targets = [];
        foreach ($upstreams as $upstream) {
            $parts = parse_url($upstream);
            $host = ($parts['host'] ?? '') === 'localhost' ? '127.0.0.1' : ($parts['host'] ?? '');
            if (($parts['scheme'] ?? '') !== 'http' || !isset($parts['port'])
                || preg_match('/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/', $host) !== 1) {
                throw new \InvalidArgumentException("the RTT proxy forwards to loopback http://127.x.x.x:PORT only, got '{$upstream}'");
            }
            $targets[] = "{$host}:{$parts['port']}";
        }
        if ($targets === []) {
            throw new \InvalidArgumentException('the RTT proxy needs at least one upstream');
        }
        // -n: none of the ini's extensions (OPcache, the bench's own) in the proxy; ext-sockets
        // only for TCP_NODELAY on every socket, when it is a shared module.
        $cmd = [\PHP_BINARY, '-n', '-d', 'display_errors=stderr', '-d', 'error_reporting=-1'];
        $sockets = rtrim((string) ini_get('extension_dir'), '/') . '/sockets.so';
        if (is_file($sockets)) {
            array_push($cmd, '-d', "extension={$sockets}");
        }
        array_push($cmd, '-r', 'require $argv[1]; LcBench\RttProxyServer::main(array_slice($argv, 2));', '--',
            __DIR__ . '/RttProxyServer.php', implode(',', $targets), (string) $delayMs, (string) $maxLifetimeSeconds, (string) getmypid());
        $proc = proc_open($cmd, [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => \STDERR], $pipes);
        if (!\is_resource($proc)) {
            throw new \RuntimeException('cannot start the RTT proxy (' . \PHP_BINARY . ')');
        }

        return new self($proc, $pipes, $delayMs);
    }

    public function endpoint(): string
    {
        return "http://127.0.0.1:{$this->port}";
    }

    public function pid(): int
    {
        return $this->pid;
    }

    /**
     * Counters so far; the peak of requests held at once and the connections that carried requests
     * since the previous call.
     *
     * @return array{requests: int, accepted: int, open: int, max_held: int, used: int, per_upstream: list<int>}
     */
    public function stats(): array
    {
        if ($this->proc === null || @fwrite($this->pipes[0], "stats\n") === false) {
            throw new \RuntimeException('the RTT proxy is not running');
        }
        $line = $this->readLine(5.0);
        $stats = $line !== null ? json_decode($line, true) : null;
        if (!\is_array($stats)) {
            throw new \RuntimeException('the RTT proxy did not answer "stats"' . ($line !== null ? ": {$line}" : ''));
        }

        return $stats;
    }

    public function stop(): void
    {
        if ($this->proc === null) {
            return;
        }
        @fclose($this->pipes[0]); // end of the control pipe: the child stops by itself
        $deadline = microtime(true) + 2.0;
        while (proc_get_status($this->proc)['running'] && microtime(true) < $deadline) {
            usleep(5_000);
        }
        if (proc_get_status($this->proc)['running']) {
            proc_terminate($this->proc, 9);
        }
        @fclose($this->pipes[1]);
        proc_close($this->proc);
        $this->proc = null;
    }

    public function __destruct()
    {
        $this->stop();
    }

    private function readLine(float $timeout): ?string
    {
        $deadline = microtime(true) + $timeout;
        do {
            $read = [$this->pipes[1]];
            $write = $except = null;
            $left = max(0.0, $deadline - microtime(true));
            if (@stream_select($read, $write, $except, (int) $left, (int) (fmod($left, 1.0) * 1e6)) > 0) {
                $line = fgets($this->pipes[1]);

                return $line === false ? null : rtrim($line, "\n");
            }
        } while (microtime(true) < $deadline);

        return null;
    }
}
