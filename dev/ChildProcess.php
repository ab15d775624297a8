<?php

declare(strict_types=1);

namespace LambdaCache\Dev;

/**
 * Ending a proc_open() child, for FaultProxy, FpmMaster and BackgroundProcess: one signal, a
 * bounded wait, SIGKILL when the child is still there, then proc_close().
 */
final class ChildProcess
{
    /**
     * Sends $signal to the child (none when null: only wait), waits up to $grace seconds for it
     * to end, then sends SIGKILL and waits for that; closes the handle in every case.
     *
     * proc_get_status() reports the exit code once only (PHP < 8.3): pass $finalStatus when the
     * caller has already seen the child end, and keep the status this returns.
     *
     * @param resource $proc
     * @param array<string, mixed>|null $finalStatus proc_get_status() of a child seen ended
     * @return array{status: array<string, mixed>, killed: bool} the last status, and whether SIGKILL was sent
     */
    public static function stop($proc, ?int $signal, float $grace, ?array $finalStatus = null): array
    {
        $status = $finalStatus ?? proc_get_status($proc);
        $killed = false;
        if ($status['running'] && $signal !== null) {
            proc_terminate($proc, $signal);
        }
        $deadline = microtime(true) + $grace;
        while ($status['running']) {
            if (!$killed && microtime(true) >= $deadline) {
                proc_terminate($proc, 9);
                $killed = true;
            }
            usleep(5000);
            $status = proc_get_status($proc);
        }
        proc_close($proc);
        return ['status' => $status, 'killed' => $killed];
    }
}
