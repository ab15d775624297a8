<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/** An object whose __wakeup() reads other keys of a pool: unserialize() runs it inside a read. */
final class WakeupReader
{
    /** The pool __wakeup() reads from (set by the test). */
    public static ?object $pool = null;

    /** @var array<string, mixed> key => what __wakeup() read */
    public array $seen = [];

    /** @param list<string> $keys */
    public function __construct(public array $keys)
    {
    }

    public function __wakeup(): void
    {
        foreach ($this->keys as $key) {
            $this->seen[$key] = self::$pool?->getItem($key)->get();
        }
    }
}
