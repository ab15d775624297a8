<?php

declare(strict_types=1);

/*
 * RttProxy.php's child process: one stream_select loop that holds each request for the delay,
 * then forwards it to the next upstream in turn (round robin per request, so the chunks of one
 * call are spread evenly over the emulators). Each client connection has a connection of its own
 * to every upstream; responses are cut at their end (Content-Length or chunked) and relayed in
 * the order of their requests. Started by RttProxy::start().
 */

namespace LcBench;

use LambdaCache\Tests\Support\HttpWire;

require_once __DIR__ . '/../../php-tests/Support/HttpWire.php';

/** The child process: the event loop. */
final class RttProxyServer
{
    private const READ_CHUNK = 1 << 16;

    /** @var resource */
    private $listener;
    private string $control = '';
    /**
     * Per client connection: its socket; one socket to each upstream, with what waits to be
     * written to it and what it sent that is not a whole response yet; the bytes of a request not
     * whole yet; held requests (due time, bytes); which upstream has each forwarded request that
     * has not been answered, in order; what waits to be written to the client.
     *
     * @var array<int, array{client: resource, ups: list<resource>, toUp: list<string>, fromUp: list<string>,
     *                       in: string, held: list<array{int, string}>, pending: list<int>, toClient: string,
     *                       closing: bool}>
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

    /** @var list<int> requests forwarded to each upstream */
    private array $perUpstream;
    /** The upstream of the next request released. */
    private int $turn = 0;

    /** @param non-empty-list<string> $upstreams */
    private function __construct(
        private readonly array $upstreams,
        private readonly int $delayNs,
        private readonly int $deadlineNs,
        private readonly int $parentPid,
    ) {
        $this->nodelay = \function_exists('socket_import_stream');
        $this->perUpstream = array_fill(0, \count($upstreams), 0);
    }

    /** main([upstreams "127.x.x.x:PORT[,127.x.x.x:PORT...]", delay ms, max lifetime s, parent pid]) */
    public static function main(array $args): void
    {
        [$list, $delayMs, $lifetime, $parent] = $args + ['', '0', '600', '0'];
        $upstreams = explode(',', $list);
        foreach ($upstreams as $upstream) {
            if (preg_match('/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d{1,5}$/', $upstream) !== 1) {
                fwrite(\STDERR, "rtt proxy: each upstream must be 127.x.x.x:PORT, got '{$upstream}'\n");
                exit(2);
            }
        }
        $server = new self($upstreams, max(0, (int) $delayMs) * 1_000_000,
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
                if (!HttpWire::parentIs($this->parentPid)) {
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

    /** Hands every request whose time has come to the upstream whose turn it is. */
    private function release(int $now): void
    {
        if ($this->held === 0) {
            return;
        }
        $count = \count($this->upstreams);
        foreach (array_keys($this->conns) as $id) {
            while (isset($this->conns[$id]) && $this->conns[$id]['held'] !== [] && $this->conns[$id]['held'][0][0] <= $now) {
                $target = $this->turn++ % $count;
                $this->conns[$id]['toUp'][$target] .= array_shift($this->conns[$id]['held'])[1];
                $this->conns[$id]['pending'][] = $target;
                ++$this->perUpstream[$target];
                --$this->held;
                $this->flush($id, $target); // usually writable at once: saves a select round
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
            foreach ($conn['ups'] as $k => $up) {
                $read["u{$id}_{$k}"] = $up;
                if ($conn['toUp'][$k] !== '') {
                    $write["u{$id}_{$k}"] = $up;
                }
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
            [$id, $target] = self::parseName((string) $name);
            if (isset($this->conns[$id])) {
                $this->flush($id, $target);
            }
        }
        foreach ($read as $name => $_) {
            $name = (string) $name;
            if ($name === 'l') {
                $this->accept();
            } elseif ($name === 's') {
                if (!$this->readControl()) {
                    return false;
                }
            } else {
                [$id, $target] = self::parseName($name);
                if (isset($this->conns[$id])) {
                    $target === null ? $this->readClient($id) : $this->readUpstream($id, $target);
                }
            }
        }

        return true;
    }

    /** "c12" => [12, null] (client of connection 12), "u12_1" => [12, 1] (its socket to upstream 1). */
    private static function parseName(string $name): array
    {
        if ($name[0] === 'c') {
            return [(int) substr($name, 1), null];
        }
        [$id, $target] = explode('_', substr($name, 1));

        return [(int) $id, (int) $target];
    }

    private function accept(): void
    {
        while (($client = @stream_socket_accept($this->listener, 0)) !== false) {
            $ups = [];
            foreach ($this->upstreams as $upstream) {
                $socket = @stream_socket_client("tcp://{$upstream}", $errno, $errstr, 5,
                    \STREAM_CLIENT_CONNECT | \STREAM_CLIENT_ASYNC_CONNECT,
                    stream_context_create(['socket' => ['tcp_nodelay' => true]]));
                if ($socket === false) {
                    fwrite(\STDERR, "rtt proxy: cannot connect to {$upstream}: {$errstr}\n");
                    array_map('fclose', [$client, ...$ups]);
                    continue 2;
                }
                $ups[] = $socket;
            }
            foreach ([$client, ...$ups] as $stream) {
                stream_set_blocking($stream, false);
                stream_set_write_buffer($stream, 0);
                stream_set_read_buffer($stream, 0);
                $this->noDelay($stream);
            }
            $none = array_fill(0, \count($ups), '');
            $this->conns[$this->nextId++] = ['client' => $client, 'ups' => $ups, 'toUp' => $none, 'fromUp' => $none,
                'in' => '', 'held' => [], 'pending' => [], 'toClient' => '', 'closing' => false];
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
        while (($request = HttpWire::takeMessage($this->conns[$id]['in'])) !== null) {
            $this->conns[$id]['held'][] = [$now + $this->delayNs, $request];
            ++$this->held;
            ++$this->requests;
            $this->used[$id] = true;
        }
        $this->maxHeld = max($this->maxHeld, $this->held);
    }

    /** Takes what upstream $target sent; passes on each whole response whose turn has come. */
    private function readUpstream(int $id, int $target): void
    {
        $conn = &$this->conns[$id];
        $data = @fread($conn['ups'][$target], self::READ_CHUNK);
        if ($data === false || ($data === '' && feof($conn['ups'][$target]))) {
            // An emulator closed: pass on the whole responses there are, then close the client too.
            $conn['closing'] = true;
            unset($conn);
            if ($this->conns[$id]['toClient'] === '') {
                $this->close($id);
            }

            return;
        }
        $conn['fromUp'][$target] .= $data;
        while ($conn['pending'] !== [] && ($response = HttpWire::takeMessage($conn['fromUp'][$conn['pending'][0]])) !== null) {
            $conn['toClient'] .= $response;
            array_shift($conn['pending']);
        }
        unset($conn);
        $this->flush($id, null);
    }

    /** Writes what waits for upstream $target (null: for the client) as far as the socket takes it now. */
    private function flush(int $id, ?int $target): void
    {
        $conn = &$this->conns[$id];
        $buffer = &$conn[$target === null ? 'toClient' : 'toUp'];
        if ($target !== null) {
            $buffer = &$buffer[$target];
        }
        $written = $buffer === '' ? 0 : @fwrite($target === null ? $conn['client'] : $conn['ups'][$target], $buffer);
        if ($written === false) {
            unset($conn, $buffer);
            $this->close($id);

            return;
        }
        $buffer = (string) substr($buffer, $written);
        $done = $target === null && $buffer === '' && $conn['closing'];
        unset($conn, $buffer);
        if ($done) {
            $this->close($id);
        }
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
                    'open' => \count($this->conns), 'max_held' => $this->maxHeld, 'used' => \count($this->used),
                    'per_upstream' => $this->perUpstream]) . "\n");
                [$this->maxHeld, $this->used] = [$this->held, []];
            }
        }

        return true;
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
        foreach ([...$conn['ups'], $conn['client']] as $stream) {
            @fclose($stream);
        }
    }
}
