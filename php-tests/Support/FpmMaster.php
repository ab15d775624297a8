<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

use LambdaCache\Dev\ChildProcess;

/**
 * A php-fpm master for a test, in the foreground (`-F`), with nothing but its own files from
 * $dir: `-n -c $dir/php.ini -y $dir/php-fpm.conf`. php.ini loads the extension, so MINIT runs in
 * the master before it forks the workers (pm = static). The workers keep the environment
 * (clear_env = no), their output goes to the fpm log, PHP errors to $dir/php-errors.log.
 * stop() sends SIGQUIT, then SIGKILL, and kills any worker still there; __destruct calls it.
 */
final class FpmMaster
{
    /** @var resource|null */
    private $proc;
    private int $pid;
    private ?array $finalStatus = null;
    /** @var list<int> */
    private array $workers = [];
    private ?string $stoppedBy = null;

    private function __construct($proc, private string $dir, private int $port)
    {
        $this->proc = $proc;
        $this->pid = (int) proc_get_status($proc)['pid'];
    }

    /** The php-fpm of this PHP's minor version, or null. */
    public static function binary(): ?string
    {
        $v = PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION;
        foreach (["/usr/sbin/php-fpm{$v}", "/usr/local/sbin/php-fpm{$v}"] as $path) {
            if (is_executable($path)) {
                return $path;
            }
        }
        return null;
    }

    /**
     * Writes the configuration into $dir, starts the master on a free loopback port and waits
     * until it and its $children workers are ready (tries three ports if one is taken meanwhile).
     *
     * @param array<string, string> $ini more php.ini settings
     */
    public static function start(string $dir, string $extension, int $children, array $ini = [], float $timeout = 20.0): self
    {
        $binary = self::binary() ?? throw new \RuntimeException('php-fpm' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION . ' is not installed');
        $failures = [];
        for ($attempt = 1; $attempt <= 3; $attempt++) {
            $port = self::freePort();
            $ini = ['extension' => $extension, 'error_reporting' => '-1', 'display_errors' => 'Off', 'log_errors' => 'On',
                'error_log' => "{$dir}/php-errors.log", 'html_errors' => 'Off', 'memory_limit' => '256M'] + $ini;
            $lines = array_map(static fn (string $k, string $v): string => "{$k} = \"{$v}\"", array_keys($ini), $ini);
            file_put_contents("{$dir}/php.ini", implode("\n", $lines) . "\n");
            $root = self::isRoot();
            file_put_contents("{$dir}/php-fpm.conf", implode("\n", [
                '[global]',
                "pid = {$dir}/php-fpm.pid",
                "error_log = {$dir}/fpm.log",
                'log_level = notice',
                'daemonize = no',
                'process_control_timeout = 10s',
                '[test]',
                "listen = 127.0.0.1:{$port}",
                'listen.backlog = 511',
                ...($root ? ['user = root', 'group = root'] : []),
                'pm = static',
                "pm.max_children = {$children}",
                'clear_env = no',
                'catch_workers_output = yes',
                'request_terminate_timeout = 60s',
            ]) . "\n");
            $cmd = [$binary, '-n', '-c', "{$dir}/php.ini", '-y', "{$dir}/php-fpm.conf", '-F', ...($root ? ['-R'] : [])];
            $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "{$dir}/master.out", 'a'], 2 => ['file', "{$dir}/master.out", 'a']], $pipes, $dir);
            if (!is_resource($proc)) {
                throw new \RuntimeException("cannot start {$binary}");
            }
            $master = new self($proc, $dir, $port);
            $deadline = microtime(true) + $timeout;
            while (microtime(true) < $deadline && $master->isRunning()) {
                if (str_contains($master->log(), 'ready to handle connections') && count($master->childPids()) >= $children) {
                    $master->workers = $master->childPids();
                    return $master;
                }
                usleep(10000);
            }
            $failures[] = "attempt {$attempt} on port {$port}: " . $master->log() . (string) @file_get_contents("{$dir}/master.out");
            $master->stop();
            if (!str_contains(end($failures), 'Address already in use')) {
                break;
            }
        }
        throw new \RuntimeException("php-fpm did not start:\n" . implode("\n", $failures));
    }

    public function pid(): int
    {
        return $this->pid;
    }

    public function port(): int
    {
        return $this->port;
    }

    /** The workers the master had forked when it was ready. */
    public function workers(): array
    {
        return $this->workers;
    }

    public function isRunning(): bool
    {
        if ($this->finalStatus !== null || $this->proc === null) {
            return false;
        }
        $status = proc_get_status($this->proc);
        if (!$status['running']) {
            $this->finalStatus = $status;
        }
        return $status['running'];
    }

    /** The fpm log: master notices, worker output, crashes of workers. */
    public function log(): string
    {
        return (string) @file_get_contents("{$this->dir}/fpm.log");
    }

    public function phpErrors(): string
    {
        return (string) @file_get_contents("{$this->dir}/php-errors.log");
    }

    /** Whether the master process has $path mapped (the extension it loaded at start-up). */
    public function hasMapped(string $path): bool
    {
        return str_contains((string) @file_get_contents("/proc/{$this->pid}/maps"), $path);
    }

    /** Live processes whose parent is the master. */
    public function childPids(): array
    {
        $pids = [];
        foreach (glob('/proc/[0-9]*/stat') ?: [] as $file) {
            $stat = (string) @file_get_contents($file);
            // pid (comm) state ppid ...: comm may contain spaces, so cut after the last ')'.
            $fields = explode(' ', substr($stat, (int) strrpos($stat, ')') + 2));
            if (($fields[1] ?? '') === (string) $this->pid && ($fields[0] ?? 'Z') !== 'Z') {
                $pids[] = (int) basename(dirname($file));
            }
        }
        sort($pids);
        return $pids;
    }

    /** 'SIGQUIT' when the master ended by itself after SIGQUIT, 'SIGKILL' when it had to be killed. */
    public function stoppedBy(): ?string
    {
        return $this->stoppedBy;
    }

    /** Stops the master (SIGQUIT, then SIGKILL after $grace seconds) and every worker it left. */
    public function stop(float $grace = 10.0): void
    {
        if ($this->proc === null) {
            return;
        }
        $workers = array_values(array_unique([...$this->workers, ...$this->childPids()]));
        $wasRunning = $this->isRunning();
        // SIGQUIT: graceful stop.
        ['status' => $this->finalStatus, 'killed' => $killed] = ChildProcess::stop($this->proc, 3, $grace, $this->finalStatus);
        $this->proc = null;
        if ($wasRunning) {
            $this->stoppedBy = $killed ? 'SIGKILL' : 'SIGQUIT';
        }
        // Workers orphaned by a killed master: only processes that are still php-fpm workers.
        $deadline = microtime(true) + 5.0;
        foreach ($workers as $pid) {
            while (self::isFpmProcess($pid) && microtime(true) < $deadline) {
                usleep(10000);
            }
            if (self::isFpmProcess($pid) && function_exists('posix_kill')) {
                posix_kill($pid, 9);
            }
        }
    }

    public static function isFpmProcess(int $pid): bool
    {
        $stat = (string) @file_get_contents("/proc/{$pid}/stat");
        return $stat !== '' && str_contains($stat, '(php-fpm') && !str_contains(substr($stat, (int) strrpos($stat, ')')), ') Z ');
    }

    public function __destruct()
    {
        $this->stop(5.0);
    }

    private static function isRoot(): bool
    {
        if (function_exists('posix_geteuid')) {
            return posix_geteuid() === 0;
        }
        $status = (string) @file_get_contents('/proc/self/status');
        return preg_match('/^Uid:\s+\d+\s+0\s/m', $status) === 1;
    }

    private static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
        if ($server === false) {
            throw new \RuntimeException("no free port: {$errstr}");
        }
        $name = (string) stream_socket_get_name($server, false);
        fclose($server);
        return (int) substr($name, (int) strrpos($name, ':') + 1);
    }
}
