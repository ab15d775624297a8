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
 * Control pipe (the child's stdin): "stats\n" answers one JSON line on stdout (requests and
 * connections accepted so far, connections open now; since the previous "stats": the most requests
 * held at one time and how many connections carried requests), which dynamo.php reads around
 * every sample.
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

    /** Starts a proxy on 127.0.0.1 that forwards to $upstream (http://127.x.x.x:PORT or http://localhost:PORT). */
    public static function start(string $upstream, int $delayMs, float $maxLifetimeSeconds): self
    {
        $parts = parse_url($upstream);
        $host = ($parts['host'] ?? '') === 'localhost' ? '127.0.0.1' : ($parts['host'] ?? '');
        if (($parts['scheme'] ?? '') !== 'http' || !isset($parts['port'])
            || preg_match('/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/', $host) !== 1) {
            throw new \InvalidArgumentException("the RTT proxy forwards to loopback http://127.x.x.x:PORT only, got '{$upstream}'");
        }
        // -n: none of the ini's extensions (OPcache, the bench's own) in the proxy; ext-sockets
        // only for TCP_NODELAY on every socket, when it is a shared module.
        $cmd = [\PHP_BINARY, '-n', '-d', 'display_errors=stderr', '-d', 'error_reporting=-1'];
        $sockets = rtrim((string) ini_get('extension_dir'), '/') . '/sockets.so';
        if (is_file($sockets)) {
            array_push($cmd, '-d', "extension={$sockets}");
        }
        array_push($cmd, '-r', 'require $argv[1]; LcBench\RttProxyServer::main(array_slice($argv, 2));', '--',
            __FILE__, "{$host}:{$parts['port']}", (string) $delayMs, (string) $maxLifetimeSeconds, (string) getmypid());
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
     * @return array{requests: int, accepted: int, open: int, max_held: int, used: int}
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

/** The child process: the event loop. */
final class RttProxyServer
{
    private const READ_CHUNK = 1 << 16;

    /** @var resource */
    private $listener;
    private string $control = '';
    /**
     * @var array<int, array{client: resource, upstream: resource, in: string, toUpstream: string,
     *                       toClient: string, held: list<array{int, string}>, upstreamDone: bool}>
     */
    private array $conns = [];
    private int $nextId = 1;
    private int $held = 0;
    private int $requests = 0;
    private int $accepted = 0;
    private int $maxHeld = 0;
    /** @var array<int, true> connections that carried a request since the last "stats" */
    private array $used = [];
    private bool $nodelay;

    private function __construct(
        private readonly string $upstream,
        private readonly int $delayNs,
        private readonly int $deadlineNs,
        private readonly int $parentPid,
    ) {
        $this->nodelay = \function_exists('socket_import_stream');
    }

    /** main([upstream "127.x.x.x:PORT", delay ms, max lifetime s, parent pid]) */
    public static function main(array $args): void
    {
        [$upstream, $delayMs, $lifetime, $parent] = $args + ['', '0', '600', '0'];
        if (preg_match('/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/', $upstream) !== 1) {
            fwrite(\STDERR, "rtt proxy: upstream must be 127.x.x.x:PORT, got '{$upstream}'\n");
            exit(2);
        }
        $server = new self($upstream, max(0, (int) $delayMs) * 1_000_000,
            hrtime(true) + (int) (max(1.0, (float) $lifetime) * 1e9), (int) $parent);
        $server->run();
    }

    private function run(): void
    {
        $context = stream_context_create(['socket' => ['tcp_nodelay' => true, 'backlog' => 128]]);
        $listener = @stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr,
            \STREAM_SERVER_BIND | \STREAM_SERVER_LISTEN, $context);
        if ($listener === false) {
            fwrite(\STDERR, "rtt proxy: cannot listen on 127.0.0.1: {$errstr}\n");
            exit(1);
        }
        stream_set_blocking($listener, false);
        $this->listener = $listener;
        stream_set_blocking(\STDIN, false);
        $port = (int) substr((string) strrchr((string) stream_socket_get_name($listener, false), ':'), 1);
        fwrite(\STDOUT, sprintf("listening %d %d\n", $port, getmypid()));

        $nextParentCheck = 0;
        while (($now = hrtime(true)) < $this->deadlineNs) {
            if ($now >= $nextParentCheck) {
                $nextParentCheck = $now + 500_000_000;
                if (!$this->parentAlive()) {
                    break;
                }
            }
            $this->release($now);
            if (!$this->poll($now)) {
                break;
            }
        }
        foreach (array_keys($this->conns) as $id) {
            $this->close($id);
        }
    }

    /** Hands every request whose time has come to its upstream connection. */
    private function release(int $now): void
    {
        if ($this->held === 0) {
            return;
        }
        foreach (array_keys($this->conns) as $id) {
            $conn = &$this->conns[$id];
            $released = false;
            while ($conn['held'] !== [] && $conn['held'][0][0] <= $now) {
                $conn['toUpstream'] .= array_shift($conn['held'])[1];
                --$this->held;
                $released = true;
            }
            unset($conn);
            if ($released) {
                $this->flush($id, 'upstream', 'toUpstream'); // usually writable at once: saves a select round
            }
        }
    }

    /** One stream_select over everything, until the nearest held request is due; false: stop. */
    private function poll(int $now): bool
    {
        $read = ['l' => $this->listener, 's' => \STDIN];
        $write = [];
        $due = $now + 500_000_000;
        foreach ($this->conns as $id => $conn) {
            $read["c{$id}"] = $conn['client'];
            if (!$conn['upstreamDone']) {
                $read["u{$id}"] = $conn['upstream'];
            }
            if ($conn['toUpstream'] !== '') {
                $write["u{$id}"] = $conn['upstream'];
            }
            if ($conn['toClient'] !== '') {
                $write["c{$id}"] = $conn['client'];
            }
            if ($conn['held'] !== []) {
                $due = min($due, $conn['held'][0][0]);
            }
        }
        $wait = max(0, $due - $now);
        $except = null;
        $ready = @stream_select($read, $write, $except, intdiv($wait, 1_000_000_000), intdiv($wait % 1_000_000_000, 1000));
        if ($ready === false || $ready === 0) {
            return true;
        }
        foreach ($write as $name => $_) {
            $name = (string) $name;
            $id = (int) substr($name, 1);
            if (isset($this->conns[$id])) {
                $name[0] === 'u' ? $this->flush($id, 'upstream', 'toUpstream') : $this->flush($id, 'client', 'toClient');
            }
        }
        foreach ($read as $name => $_) {
            $name = (string) $name;
            $id = (int) substr($name, 1);
            if ($name === 'l') {
                $this->accept();
            } elseif ($name === 's') {
                if (!$this->readControl()) {
                    return false;
                }
            } elseif ($name[0] === 'c' && isset($this->conns[$id])) {
                $this->readClient($id);
            } elseif ($name[0] === 'u' && isset($this->conns[$id])) {
                $this->readUpstream($id);
            }
        }

        return true;
    }

    private function accept(): void
    {
        while (($client = @stream_socket_accept($this->listener, 0)) !== false) {
            $upstream = @stream_socket_client("tcp://{$this->upstream}", $errno, $errstr, 5,
                \STREAM_CLIENT_CONNECT | \STREAM_CLIENT_ASYNC_CONNECT,
                stream_context_create(['socket' => ['tcp_nodelay' => true]]));
            if ($upstream === false) {
                fwrite(\STDERR, "rtt proxy: cannot connect to {$this->upstream}: {$errstr}\n");
                fclose($client);
                continue;
            }
            foreach ([$client, $upstream] as $stream) {
                stream_set_blocking($stream, false);
                stream_set_write_buffer($stream, 0);
                stream_set_read_buffer($stream, 0);
                $this->noDelay($stream);
            }
            $this->conns[$this->nextId++] = ['client' => $client, 'upstream' => $upstream, 'in' => '',
                'toUpstream' => '', 'toClient' => '', 'held' => [], 'upstreamDone' => false];
            ++$this->accepted;
        }
    }

    private function readClient(int $id): void
    {
        $data = @fread($this->conns[$id]['client'], self::READ_CHUNK);
        if ($data === false || ($data === '' && feof($this->conns[$id]['client']))) {
            $this->close($id); // the client went: whatever it still had held goes with it

            return;
        }
        $this->conns[$id]['in'] .= $data;
        $now = hrtime(true);
        while (($request = self::takeRequest($this->conns[$id]['in'])) !== null) {
            $this->conns[$id]['held'][] = [$now + $this->delayNs, $request];
            ++$this->held;
            ++$this->requests;
            $this->used[$id] = true;
        }
        $this->maxHeld = max($this->maxHeld, $this->held);
    }

    private function readUpstream(int $id): void
    {
        $data = @fread($this->conns[$id]['upstream'], self::READ_CHUNK);
        if ($data === false || ($data === '' && feof($this->conns[$id]['upstream']))) {
            // The emulator closed: pass on what it sent, then close the client as well.
            $this->conns[$id]['upstreamDone'] = true;
            if ($this->conns[$id]['toClient'] === '') {
                $this->close($id);
            }

            return;
        }
        $this->conns[$id]['toClient'] .= $data;
        $this->flush($id, 'client', 'toClient');
    }

    /** Writes what the buffer holds as far as the socket takes it now. */
    private function flush(int $id, string $socket, string $buffer): void
    {
        $written = @fwrite($this->conns[$id][$socket], $this->conns[$id][$buffer]);
        if ($written === false) {
            $this->close($id);

            return;
        }
        $this->conns[$id][$buffer] = (string) substr($this->conns[$id][$buffer], $written);
        if ($buffer === 'toClient' && $this->conns[$id]['toClient'] === '' && $this->conns[$id]['upstreamDone']) {
            $this->close($id);
        }
    }

    /** Cuts one complete HTTP request off the front of $buffer; null while it is incomplete. */
    private static function takeRequest(string &$buffer): ?string
    {
        $headEnd = strpos($buffer, "\r\n\r\n");
        if ($headEnd === false) {
            return null;
        }
        $bodyStart = $headEnd + 4;
        $head = substr($buffer, 0, $bodyStart);
        if (preg_match('/^transfer-encoding:[^\r\n]*chunked/im', $head) === 1) {
            $end = self::chunkedEnd($buffer, $bodyStart);
        } else {
            $length = preg_match('/^content-length:\s*(\d+)/im', $head, $m) === 1 ? (int) $m[1] : 0;
            $end = \strlen($buffer) >= $bodyStart + $length ? $bodyStart + $length : null;
        }
        if ($end === null) {
            return null;
        }
        $request = substr($buffer, 0, $end);
        $buffer = (string) substr($buffer, $end);

        return $request;
    }

    /** Where a chunked body that starts at $pos ends (after the last chunk and trailers), or null. */
    private static function chunkedEnd(string $buffer, int $pos): ?int
    {
        while (($lineEnd = strpos($buffer, "\r\n", $pos)) !== false) {
            $size = hexdec(trim(strtok(substr($buffer, $pos, $lineEnd - $pos), ';') ?: '0'));
            if ($size === 0) {
                $end = strpos($buffer, "\r\n\r\n", $lineEnd);

                return $end === false ? null : $end + 4;
            }
            $pos = $lineEnd + 2 + (int) $size + 2;
            if (\strlen($buffer) < $pos) {
                return null;
            }
        }

        return null;
    }

    /** Reads the control pipe; false when the parent closed it (time to stop). */
    private function readControl(): bool
    {
        $data = @fread(\STDIN, 4096);
        if ($data === false || ($data === '' && feof(\STDIN))) {
            return false;
        }
        $this->control .= $data;
        while (($nl = strpos($this->control, "\n")) !== false) {
            $command = trim(substr($this->control, 0, $nl));
            $this->control = substr($this->control, $nl + 1);
            if ($command === 'stats') {
                fwrite(\STDOUT, json_encode(['requests' => $this->requests, 'accepted' => $this->accepted,
                    'open' => \count($this->conns), 'max_held' => $this->maxHeld, 'used' => \count($this->used)]) . "\n");
                [$this->maxHeld, $this->used] = [$this->held, []];
            }
        }

        return true;
    }

    private function parentAlive(): bool
    {
        $stat = @file_get_contents('/proc/self/stat');
        if ($this->parentPid <= 0 || !\is_string($stat) || preg_match('/\)\s+\S+\s+(\d+)/', $stat, $m) !== 1) {
            return true; // cannot tell: the control pipe and the maximum lifetime still apply
        }

        return (int) $m[1] === $this->parentPid;
    }

    /** @param resource $stream */
    private function noDelay($stream): void
    {
        if ($this->nodelay && ($socket = @socket_import_stream($stream)) instanceof \Socket) {
            @socket_set_option($socket, \SOL_TCP, \TCP_NODELAY, 1);
        }
    }

    private function close(int $id): void
    {
        $conn = $this->conns[$id] ?? null;
        if ($conn === null) {
            return;
        }
        unset($this->conns[$id]);
        $this->held -= \count($conn['held']);
        @fclose($conn['upstream']);
        @fclose($conn['client']);
    }
}
