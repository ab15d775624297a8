<?php

declare(strict_types=1);

namespace LambdaCache\Dev;

/** An error answered by DynamoDB (or the emulator), or a transport failure. */
final class DynamoError extends \RuntimeException
{
    public function __construct(public readonly string $type, string $message, int $status = 0)
    {
        parent::__construct(($type !== '' ? "{$type}: " : '') . $message, $status);
    }
}
