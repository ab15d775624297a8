<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use Psr\Cache\CacheItemPoolInterface;

/**
 * What the PSR-6 and PSR-16 conformance suites share: how a concrete test case makes a pool,
 * waiting for expiry, and checking that a call throws the PSR's InvalidArgumentException.
 */
trait ConformanceSupport
{
    /**
     * A pool on this test's storage. Every pool made in one test shares the same storage (a
     * second pool with the same namespace sees what the first one saved).
     *
     * @param bool|array|null $allowedClasses false: no objects; true: any class; list: those
     *                                      classes; null: the pool's default (not passed)
     * @param object|null $logger receives warning(string $message, array $context) reports
     */
    abstract protected function createPool(
        string $namespace = 'test',
        int $defaultLifetime = 0,
        bool|array|null $allowedClasses = null,
        ?object $logger = null
    ): CacheItemPoolInterface;

    /** The interfaces an invalid argument's exception must implement in this suite's PSR. */
    abstract protected static function invalidArgumentInterfaces(): array;

    /**
     * Lets entries saved with a TTL of $seconds expire. Stores with an injectable clock may move it
     * instead of sleeping. Expiry may be kept with one-second precision, hence the margin.
     */
    protected function waitForExpiry(int $seconds = 1): void
    {
        usleep((int) (($seconds + 1.2) * 1_000_000));
    }

    /**
     * Runs $call and records in $failures unless it throws an exception implementing every one
     * of invalidArgumentInterfaces().
     */
    protected static function expectInvalidArgument(callable $call, string $label, array &$failures): void
    {
        try {
            $call();
            $failures[] = "{$label}: no exception";
        } catch (\Throwable $e) {
            foreach (static::invalidArgumentInterfaces() as $interface) {
                if (!$e instanceof $interface) {
                    $failures[] = "{$label}: " . get_class($e) . " is not a {$interface} ({$e->getMessage()})";
                    return;
                }
            }
        }
    }
}
