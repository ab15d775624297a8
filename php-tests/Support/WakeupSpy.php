<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/** An object that counts how often unserialize() woke one up. */
final class WakeupSpy
{
    public static int $wakeups = 0;

    public function __construct(public string $marker)
    {
    }

    public function __wakeup(): void
    {
        ++self::$wakeups;
    }
}
