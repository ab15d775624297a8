<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/**
 * A loopback TCP proxy for fault injection, in a child PHP process (FaultProxyServer), between a
 * client and a loopback HTTP endpoint (the DynamoDB emulator).
 *
 * Modes, switched with setMode() (effective for the next request, also on kept-alive connections):
 * - `pass`: forward requests and relay the answers;
 * - `refuse`: stop listening and close every connection, so connects are refused;
 * - `reset`: read each request, then close the connection with a TCP RST (SO_LINGER 0 when
 *   ext-sockets is there, else a plain close) without answering;
 * - `delay:MS`: forward each request MS milliseconds after it arrived (requests still waiting
 *   when the mode changes, or whose client has gone, are dropped, never forwarded);
 * - `http500`: answer 500 with a DynamoDB InternalServerError body;
 * - `throttle`: answer 400 ProvisionedThroughputExceededException;
 * - `denied`: answer 400 AccessDeniedException.
 * dropConnections() closes the open connections once (a server-side idle close).
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
    private string $mode = 'pass';

    private function __construct($proc, private string $dir)
    {
        $this->proc = $proc;
        $this->port = (int) $this->waitForStatus(static fn (array $s) => ($s['port'] ?? 0) > 0, 'start')['port'];
    }

    /** Starts a proxy on 127.0.0.1 (a port the OS picks) forwarding to $upstream (http://127.x.x.x:PORT or http://localhost:PORT). */
    public static function start(string $upstream, float $maxLifetime = 900.0): self
    {
        $parts = parse_url($upstream);
        $host = $parts['host'] ?? '';
        $host = $host === 'localhost' ? '127.0.0.1' : $host;
        if (($parts['scheme'] ?? '') !== 'http' || !isset($parts['port'])
            || preg_match('/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/', $host) !== 1) {
            throw new \InvalidArgumentException("FaultProxy forwards to loopback http://127.x.x.x:PORT endpoints only, got '{$upstream}'");
        }
        $dir = TempDir::create('fault-proxy');
        file_put_contents("{$dir}/control.json", json_encode(['mode' => 'pass', 'generation' => 0, 'drop' => 0]));
        $cmd = [...Php::helperCommand(), '-n'];
        [$extensionDir, $builtIn] = self::helperModules();
        foreach (['sockets', 'posix'] as $ext) {
            if (!in_array($ext, $builtIn, true)) {
                $file = "{$extensionDir}/{$ext}.so";
                if (is_file($file)) {
                    array_push($cmd, '-d', "extension={$file}");
                }
            }
        }
        $code = 'require $argv[1]; LambdaCache\\Tests\\Support\\FaultProxyServer::main(array_slice($argv, 2));';
        array_push(
            $cmd, '-d', 'display_errors=stderr', '-d', 'error_reporting=-1', '-r', $code, '--',
            __DIR__ . '/FaultProxyServer.php', "{$host}:{$parts['port']}", "{$dir}/control.json", "{$dir}/status.json",
            (string) getmypid(), (string) $maxLifetime
        );
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "{$dir}/stdout.txt", 'w'], 2 => ['file', "{$dir}/stderr.txt", 'w']], $pipes);
        if (!is_resource($proc)) {
            TempDir::remove($dir);
            throw new \RuntimeException('FaultProxy: cannot start ' . implode(' ', Php::helperCommand()));
        }
        return new self($proc, $dir);
    }

    /** @return array{0: string, 1: list<string>} the helper PHP's extension_dir and what `php -n` has built in */
    private static function helperModules(): array
    {
        static $modules = null;
        if ($modules === null) {
            $cmd = implode(' ', array_map('escapeshellarg', Php::helperCommand()));
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

    public function mode(): string
    {
        return $this->mode;
    }

    /** Switches the mode and waits until the proxy applies it. */
    public function setMode(string $mode): void
    {
        if (!in_array($mode, ['pass', 'refuse', 'reset', 'http500', 'throttle', 'denied'], true)
            && preg_match('/^delay:\d+$/', $mode) !== 1) {
            throw new \InvalidArgumentException("FaultProxy: unknown mode '{$mode}'");
        }
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

    public function stop(): void
    {
        if ($this->proc === null) {
            return;
        }
        ChildProcess::stop($this->proc, 15, 3.0);
        $this->proc = null;
        TempDir::remove($this->dir);
    }

    public function __destruct()
    {
        $this->stop();
    }

    private function writeControl(bool $reset): void
    {
        $this->generation++;
        $control = json_encode(['mode' => $this->mode, 'generation' => $this->generation, 'drop' => $this->drop, 'dropReset' => $reset]);
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
