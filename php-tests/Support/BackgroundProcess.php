<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

use LambdaCache\Dev\ChildProcess;

/**
 * A child PHP process running in the background. Its output goes to files (never pipes, so a
 * chatty child cannot block); read them while it runs with stdout().
 */
final class BackgroundProcess
{
    /** @var resource|null */
    private $proc;
    private ?ProcessResult $result = null;
    /** proc_get_status() reports the exit code once only (PHP < 8.3): keep the final status. */
    private ?array $finalStatus = null;

    /** @param resource $proc */
    public function __construct($proc, private string $stdoutFile, private string $stderrFile, private array $cleanup)
    {
        $this->proc = $proc;
    }

    public function pid(): int
    {
        return (int) $this->status()['pid'];
    }

    public function isRunning(): bool
    {
        return $this->result === null && $this->status()['running'];
    }

    private function status(): array
    {
        if ($this->finalStatus !== null) {
            return $this->finalStatus;
        }
        $status = proc_get_status($this->proc);
        if (!$status['running']) {
            $this->finalStatus = $status;
        }
        return $status;
    }

    public function stdout(): string
    {
        return (string) @file_get_contents($this->stdoutFile);
    }

    /** Waits until stdout contains $needle; false on timeout or when the child ended first. */
    public function waitForOutput(string $needle, float $timeout = 20.0): bool
    {
        $deadline = microtime(true) + $timeout;
        while (microtime(true) < $deadline) {
            if (str_contains($this->stdout(), $needle)) {
                return true;
            }
            if (!$this->isRunning()) {
                return str_contains($this->stdout(), $needle);
            }
            usleep(5000);
        }
        return false;
    }

    public function kill(int $signal = 9): void
    {
        if ($this->isRunning()) {
            proc_terminate($this->proc, $signal);
        }
    }

    /** Waits for the end (killing the child with SIGKILL after $timeout seconds). */
    public function wait(float $timeout = 60.0): ProcessResult
    {
        if ($this->result !== null) {
            return $this->result;
        }
        ['status' => $status, 'killed' => $timedOut] = ChildProcess::stop($this->proc, null, $timeout, $this->finalStatus);
        $this->finalStatus = $status;
        $signal = $status['signaled'] ? (int) $status['termsig'] : null;
        $exit = $status['signaled'] ? 128 + (int) $status['termsig'] : (int) $status['exitcode'];
        $this->result = new ProcessResult(
            $exit,
            $this->stdout(),
            ($timedOut ? "[timed out after {$timeout}s and killed]\n" : '') . (string) @file_get_contents($this->stderrFile),
            $signal
        );
        foreach (array_merge([$this->stdoutFile, $this->stderrFile], $this->cleanup) as $file) {
            @unlink($file);
        }
        return $this->result;
    }

    public function __destruct()
    {
        if ($this->result === null) {
            $this->kill(9);
            $this->wait(10.0);
        }
    }
}
