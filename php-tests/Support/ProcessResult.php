<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/** Outcome of a finished child PHP process. */
final class ProcessResult
{
    public function __construct(
        public readonly int $exitCode,
        public readonly string $stdout,
        public readonly string $stderr,
        public readonly ?int $termSignal = null,
    ) {
    }

    /** One-line-per-field summary for assertion messages. */
    public function describe(): string
    {
        return sprintf(
            "exit code %d%s\n--- stdout ---\n%s\n--- stderr ---\n%s",
            $this->exitCode,
            $this->termSignal !== null ? " (signal {$this->termSignal})" : '',
            self::cut($this->stdout),
            self::cut($this->stderr)
        );
    }

    private static function cut(string $s): string
    {
        return strlen($s) > 4000 ? substr($s, 0, 4000) . '...[cut]' : $s;
    }
}
