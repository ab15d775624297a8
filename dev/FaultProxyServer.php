<?php

declare(strict_types=1);

namespace LambdaCache\Dev;

// The child process that runs this file has no autoloader.
require_once __DIR__ . '/HttpWire.php';

/**
 * The child process behind FaultProxy: an HTTP/1.1-aware loopback proxy that decides per request
 * what to do, from the mode in a control file (see FaultProxy for the modes), and forwards to its
 * upstreams in turn.
 *
 * One event loop (stream_select), no blocking waits: delayed requests sit in a queue. Requests are
 * parsed (Content-Length or chunked) so that a fault hits the next request even on a kept-alive
 * connection; responses from the upstream are relayed as they come (clients do not pipeline).
 *
 * The status file (port, mode, request counts) is rewritten whenever the mode changes and as
 * each request is counted, before it is answered, forwarded or dropped.
 *
 * It stops by itself when its parent process is gone or after a maximum lifetime.
 */
final class FaultProxyServer
{
    /** @var resource|null */
    private $listener = null;
    private int $port = 0;
    private string $mode = 'pass';
    private int $generation = -1;
    private int $dropped = 0;
    private string $controlRaw = '';
    /** @var array<int, array{client: resource, upstreams: array<int, resource>, in: string}> */
    private array $conns = [];
    private int $nextId = 1;
    /** @var list<array{due: float, id: int, request: string}> */
    private array $delayed = [];
    private int $requests = 0;
    /** @var array<string, int> X-Amz-Target => count */
    private array $targets = [];
    private string $error = '';
    private bool $statusDirty = true;
    private int $nextUpstream = 0;
    /** @var list<int> requests per upstream */
    private array $perUpstream;
    private int $accepted = 0;
    private int $statsEpoch = 0;
    /** Since the last stats epoch: the most requests held at once, the connections that carried requests. */
    private int $maxHeld = 0;
    /** @var array<int, true> */
    private array $used = [];
    /** @var array{max_held: int, used: int} the window that the last stats epoch closed */
    private array $window = ['max_held' => 0, 'used' => 0];

    /** @param list<array{0: string, 1: int}> $upstreams */
    private function __construct(
        private array $upstreams,
        private string $controlFile,
        private string $statusFile,
        private int $parentPid,
        private float $deadline,
    ) {
        $this->perUpstream = array_fill(0, count($upstreams), 0);
    }

    /** Entry point: main([upstreams "127.0.0.1:PORT[,...]", control file, status file, parent pid, max seconds]). */
    public static function main(array $args): void
    {
        [$list, $control, $status, $parent, $lifetime] = $args + ['', '', '', '0', '600'];
        $upstreams = [];
        foreach (explode(',', $list) as $upstream) {
            if (preg_match('/^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}):(\d{1,5})$/', $upstream, $m) !== 1) {
                fwrite(STDERR, "fault proxy: upstreams must be 127.x.x.x:PORT addresses, got '{$upstream}'\n");
                exit(2);
            }
            $upstreams[] = [$m[1], (int) $m[2]];
        }
        $server = new self($upstreams, $control, $status, (int) $parent, microtime(true) + (float) $lifetime);
        $server->run();
    }

    private function run(): void
    {
        $this->listen(0);
        $lastParentCheck = 0.0;
        while (microtime(true) < $this->deadline) {
            $now = microtime(true);
            if ($now - $lastParentCheck > 0.25) {
                $lastParentCheck = $now;
                if (!HttpWire::parentIs($this->parentPid)) {
                    $this->removeFiles();
                    break;
                }
            }
            $this->readControl();
            $this->flushDelayed();
            $this->writeStatus();
            $this->poll();
        }
        foreach (array_keys($this->conns) as $id) {
            $this->close($id, false);
        }
    }

    /** An orphan cleans up its parent's files (FaultProxy::start() made the folder for it alone). */
    private function removeFiles(): void
    {
        $dir = dirname($this->controlFile);
        array_map(static fn (string $file) => @unlink($file), glob("{$dir}/*") ?: []);
        @rmdir($dir);
    }

    private function listen(int $port): void
    {
        for ($try = 0; $try < 50; $try++) {
            $listener = @stream_socket_server("tcp://127.0.0.1:{$port}", $errno, $errstr);
            if ($listener !== false) {
                stream_set_blocking($listener, false);
                $this->listener = $listener;
                $this->port = (int) substr((string) strrchr((string) stream_socket_get_name($listener, false), ':'), 1);
                return;
            }
            $this->error = "cannot listen on 127.0.0.1:{$port}: {$errstr}";
            usleep(20000);
        }
        $this->statusDirty = true;
        $this->writeStatus();
        fwrite(STDERR, "fault proxy: {$this->error}\n");
        exit(1);
    }

    private function readControl(): void
    {
        $raw = @file_get_contents($this->controlFile);
        if (!is_string($raw) || $raw === $this->controlRaw) {
            return;
        }
        $control = json_decode($raw, true);
        if (!is_array($control)) {
            return;
        }
        $this->controlRaw = $raw;
        $mode = (string) ($control['mode'] ?? 'pass');
        if ($mode === 'refuse' && $this->listener !== null) {
            fclose($this->listener);
            $this->listener = null;
            foreach (array_keys($this->conns) as $id) {
                $this->close($id, true);
            }
        } elseif ($mode !== 'refuse' && $this->listener === null) {
            $this->listen($this->port);
        }
        $drop = (int) ($control['drop'] ?? 0);
        if ($drop !== $this->dropped) {
            $this->dropped = $drop;
            foreach (array_keys($this->conns) as $id) {
                $this->close($id, (bool) ($control['dropReset'] ?? false));
            }
        }
        if ($mode !== $this->mode) {
            // Requests still waiting from a delay mode are dropped with their connections, so that
            // nothing a client gave up on reaches the upstream after the switch.
            foreach ($this->delayed as $d) {
                $this->close($d['id'], true);
            }
            $this->delayed = [];
        }
        $this->mode = $mode;
        $epoch = (int) ($control['stats'] ?? 0);
        if ($epoch !== $this->statsEpoch) {
            $this->statsEpoch = $epoch;
            $this->window = ['max_held' => $this->maxHeld, 'used' => count($this->used)];
            [$this->maxHeld, $this->used] = [count($this->delayed), []];
        }
        $this->generation = (int) ($control['generation'] ?? 0);
        $this->statusDirty = true;
    }

    private function writeStatus(): void
    {
        if (!$this->statusDirty) {
            return;
        }
        $this->statusDirty = false;
        $status = json_encode([
            'port' => $this->port, 'pid' => getmypid(), 'mode' => $this->mode, 'generation' => $this->generation,
            'requests' => $this->requests, 'targets' => $this->targets, 'error' => $this->error,
            'accepted' => $this->accepted, 'open' => count($this->conns), 'per_upstream' => $this->perUpstream,
            'window' => $this->window,
        ]);
        $tmp = $this->statusFile . '.tmp';
        if (@file_put_contents($tmp, $status) !== false) {
            @rename($tmp, $this->statusFile);
        }
    }

    private function poll(): void
    {
        $read = [];
        if ($this->listener !== null) {
            $read['l'] = $this->listener;
        }
        foreach ($this->conns as $id => $conn) {
            $read["c{$id}"] = $conn['client'];
            foreach ($conn['upstreams'] as $k => $upstream) {
                $read["u{$id}:{$k}"] = $upstream;
            }
        }
        $timeout = 0.05;
        foreach ($this->delayed as $d) {
            $timeout = min($timeout, max(0.0, $d['due'] - microtime(true)));
        }
        if ($read === []) {
            usleep((int) ($timeout * 1e6));
            return;
        }
        $write = $except = null;
        $ready = @stream_select($read, $write, $except, 0, (int) ($timeout * 1e6));
        if (!$ready) {
            return;
        }
        foreach ($read as $name => $stream) {
            $id = (int) substr((string) $name, 1);
            if ($name === 'l') {
                $this->accept();
            } elseif ($name[0] === 'c' && isset($this->conns[$id])) {
                $this->readClient($id);
            } elseif ($name[0] === 'u' && isset($this->conns[$id])) {
                $this->readUpstream($id, (int) substr((string) strrchr((string) $name, ':'), 1));
            }
        }
    }

    private function accept(): void
    {
        $client = @stream_socket_accept($this->listener, 0);
        if ($client === false) {
            return;
        }
        stream_set_blocking($client, true);
        self::noDelay($client);
        $this->accepted++;
        $this->conns[$this->nextId++] = ['client' => $client, 'upstreams' => [], 'in' => ''];
    }

    private function readClient(int $id): void
    {
        $data = @fread($this->conns[$id]['client'], 1 << 20);
        if ($data === false || $data === '') {
            $this->close($id, false);
            return;
        }
        $this->conns[$id]['in'] .= $data;
        while (isset($this->conns[$id]) && ($request = HttpWire::takeMessage($this->conns[$id]['in'])) !== null) {
            $this->handle($id, $request);
        }
    }

    private function readUpstream(int $id, int $k): void
    {
        $data = @fread($this->conns[$id]['upstreams'][$k], 1 << 20);
        if ($data === false || $data === '') {
            $this->close($id, false);
            return;
        }
        if (@fwrite($this->conns[$id]['client'], $data) === false) {
            $this->close($id, false);
        }
    }

    private function handle(int $id, string $request): void
    {
        $this->requests++;
        $this->used[$id] = true;
        $target = preg_match('/^x-amz-target:\s*(\S+)\s*$/im', $request, $m) === 1 ? $m[1] : '-';
        $this->targets[$target] = ($this->targets[$target] ?? 0) + 1;
        // The counts are on disk before the client can get an answer: once a call has returned,
        // FaultProxy reads counts that include every request the call made.
        $this->statusDirty = true;
        $this->writeStatus();

        $mode = $this->mode;
        if (str_starts_with($mode, 'delay:')) {
            $this->delayed[] = ['due' => microtime(true) + ((int) substr($mode, 6)) / 1000, 'id' => $id, 'request' => $request];
            $this->maxHeld = max($this->maxHeld, count($this->delayed));
            return;
        }
        switch ($mode) {
            case 'pass':
                $this->forward($id, $request);
                return;
            case 'http500':
                $this->answer($id, $request, 500, 'Internal Server Error', 'com.amazonaws.dynamodb.v20120810#InternalServerError');
                return;
            case 'throttle':
                $this->answer($id, $request, 400, 'Bad Request', 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException');
                return;
            case 'denied':
                $this->answer($id, $request, 400, 'Bad Request', 'com.amazon.coral.service#AccessDeniedException');
                return;
            default: // reset, refuse (a request that slipped in), unknown modes
                $this->close($id, true);
        }
    }

    private function flushDelayed(): void
    {
        $now = microtime(true);
        $keep = [];
        foreach ($this->delayed as $d) {
            if ($d['due'] > $now) {
                $keep[] = $d;
            } elseif (isset($this->conns[$d['id']])) {
                $this->forward($d['id'], $d['request']);
            }
        }
        $this->delayed = $keep;
    }

    private function forward(int $id, string $request): void
    {
        // Clients do not pipeline: the one response this request gets comes back on the upstream
        // connection it went out on, whichever upstream that is.
        $k = $this->nextUpstream;
        $this->nextUpstream = ($k + 1) % count($this->upstreams);
        if (!isset($this->conns[$id]['upstreams'][$k])) {
            [$host, $port] = $this->upstreams[$k];
            $upstream = @stream_socket_client("tcp://{$host}:{$port}", $errno, $errstr, 5);
            if ($upstream === false) {
                $this->error = "upstream: {$errstr}";
                $this->close($id, true);
                return;
            }
            self::noDelay($upstream);
            $this->conns[$id]['upstreams'][$k] = $upstream;
        }
        $this->perUpstream[$k]++;
        $this->statusDirty = true;
        if (@fwrite($this->conns[$id]['upstreams'][$k], $request) === false) {
            $this->close($id, true);
        }
    }

    private function answer(int $id, string $request, int $status, string $reason, string $type): void
    {
        $close = preg_match('/^connection:\s*close\s*$/im', substr($request, 0, (int) strpos($request, "\r\n\r\n"))) === 1;
        $body = json_encode(['__type' => $type, 'message' => 'injected'], JSON_UNESCAPED_SLASHES);
        $response = "HTTP/1.1 {$status} {$reason}\r\n"
            . "Content-Type: application/x-amz-json-1.0\r\n"
            . 'Content-Length: ' . strlen($body) . "\r\n"
            . 'x-amzn-RequestId: FAULTPROXY' . strtoupper(bin2hex(random_bytes(8))) . "\r\n"
            . 'x-amz-crc32: ' . sprintf('%u', crc32($body)) . "\r\n"
            . ($close ? "Connection: close\r\n" : '')
            . "\r\n" . $body;
        if (@fwrite($this->conns[$id]['client'], $response) === false || $close) {
            $this->close($id, false);
        }
    }

    /** TCP_NODELAY when ext-sockets is there: small requests and answers go out at once. */
    private static function noDelay($stream): void
    {
        if (function_exists('socket_import_stream')) {
            $socket = @socket_import_stream($stream);
            if ($socket !== false && $socket !== null) {
                @socket_set_option($socket, SOL_TCP, TCP_NODELAY, 1);
            }
        }
    }

    /** Closes a client connection (with a TCP RST when $reset and ext-sockets allow) and its upstream. */
    private function close(int $id, bool $reset): void
    {
        $conn = $this->conns[$id] ?? null;
        if ($conn === null) {
            return;
        }
        unset($this->conns[$id]);
        foreach ($conn['upstreams'] as $upstream) {
            @fclose($upstream);
        }
        if ($reset && function_exists('socket_import_stream')) {
            $socket = @socket_import_stream($conn['client']);
            if ($socket !== false && $socket !== null
                && @socket_set_option($socket, SOL_SOCKET, SO_LINGER, ['l_onoff' => 1, 'l_linger' => 0])) {
                socket_close($socket); // closes the stream too
                return;
            }
        }
        @fclose($conn['client']);
    }
}
