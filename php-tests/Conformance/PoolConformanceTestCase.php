<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;
use Psr\Cache\CacheItemPoolInterface;

/**
 * PSR-6 conformance suite, written once and run against every store (DESIGN.md section 4).
 *
 * A concrete test case says how to make a pool; every pool it makes in one test must share the
 * same storage (a second pool with the same namespace sees what the first one saved).
 */
abstract class PoolConformanceTestCase extends TestCase
{
    use PoolKeyTests;
    use PoolItemTests;
    use PoolDeferredAndNamespaceTests;
    use PoolExpiryTests;
    use PoolValueTests;
    use PoolFailureTests;

    /**
     * A pool on this test's storage.
     *
     * @param bool|array $allowedClasses false: no objects; true: any class; list: those classes
     * @param object|null $logger receives warning(string $message, array $context) reports
     */
    abstract protected function createPool(
        string $namespace = 'test',
        int $defaultLifetime = 0,
        bool|array $allowedClasses = false,
        ?object $logger = null
    ): CacheItemPoolInterface;

    /**
     * Lets entries saved with a TTL of $seconds expire. Stores with an injectable clock may move it
     * instead of sleeping. Expiry may be kept with one-second precision, hence the margin.
     */
    protected function waitForExpiry(int $seconds = 1): void
    {
        usleep((int) (($seconds + 1.2) * 1_000_000));
    }

    /** @return array<string|int, mixed> */
    protected static function toArray(iterable $items): array
    {
        return is_array($items) ? $items : iterator_to_array($items, true);
    }

    /**
     * Runs $call and records in $failures unless it throws an exception implementing all of
     * $interfaces.
     */
    protected static function expectInvalidArgument(callable $call, string $label, array &$failures, array $interfaces): void
    {
        try {
            $call();
            $failures[] = "{$label}: no exception";
        } catch (\Throwable $e) {
            foreach ($interfaces as $interface) {
                if (!$e instanceof $interface) {
                    $failures[] = "{$label}: " . get_class($e) . " is not a {$interface} ({$e->getMessage()})";
                    return;
                }
            }
        }
    }

    protected static function psr6Invalid(): array
    {
        return [\Psr\Cache\InvalidArgumentException::class, \LambdaCache\InvalidArgumentException::class];
    }

    /** Asserts that $logger received at least one warning and that each starts with "LambdaCache:". */
    protected function assertReported(TestLogger $logger, string $label): void
    {
        $messages = $logger->warnings();
        $this->assertTrue(count($messages) > 0, "{$label}: nothing was reported to the logger");
        foreach ($messages as $message) {
            $this->assertTrue(str_starts_with($message, 'LambdaCache:'), "{$label}: report does not start with 'LambdaCache:': {$message}");
        }
    }

    protected function saveValue(CacheItemPoolInterface $pool, string $key, mixed $value): bool
    {
        return $pool->save($pool->getItem($key)->set($value));
    }
}
