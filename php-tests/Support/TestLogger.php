<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

use PHPUnit\Framework\Assert;

/**
 * Collects what a pool reports. Any object with a warning() method is a valid logger for
 * LambdaCache; this one also accepts the other PSR-3 levels so nothing reported is lost.
 */
final class TestLogger
{
    /** @var list<array{level: string, message: string, context: array}> */
    public array $records = [];

    public function warning($message, array $context = []): void
    {
        $this->log('warning', $message, $context);
    }

    public function error($message, array $context = []): void
    {
        $this->log('error', $message, $context);
    }

    public function notice($message, array $context = []): void
    {
        $this->log('notice', $message, $context);
    }

    public function info($message, array $context = []): void
    {
        $this->log('info', $message, $context);
    }

    public function debug($message, array $context = []): void
    {
        $this->log('debug', $message, $context);
    }

    public function critical($message, array $context = []): void
    {
        $this->log('critical', $message, $context);
    }

    public function alert($message, array $context = []): void
    {
        $this->log('alert', $message, $context);
    }

    public function emergency($message, array $context = []): void
    {
        $this->log('emergency', $message, $context);
    }

    public function log($level, $message, array $context = []): void
    {
        $this->records[] = ['level' => (string) $level, 'message' => (string) $message, 'context' => $context];
    }

    /** @return list<string> */
    public function warnings(): array
    {
        $out = [];
        foreach ($this->records as $record) {
            if ($record['level'] === 'warning') {
                $out[] = $record['message'];
            }
        }
        return $out;
    }

    /** Asserts that at least one warning came and that each starts with "LambdaCache:". */
    public function assertReported(string $label): void
    {
        $messages = $this->warnings();
        Assert::assertNotEmpty($messages, "{$label}: nothing was reported to the logger");
        foreach ($messages as $message) {
            Assert::assertStringStartsWith('LambdaCache:', $message, "{$label}: a report does not start with 'LambdaCache:'");
        }
    }

    public function reset(): void
    {
        $this->records = [];
    }
}
