<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Psr16Cache;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;
use Psr\Cache\CacheItemPoolInterface;
use Psr\SimpleCache\CacheInterface;

/**
 * PSR-16 conformance suite, written once and run against every store (DESIGN.md section 4),
 * through LambdaCache\Psr16Cache over the store's pool.
 */
abstract class SimpleCacheConformanceTestCase extends TestCase
{
    use SimpleCacheKeyTests;
    use SimpleCacheBasicTests;
    use SimpleCacheMultipleTests;
    use SimpleCacheTtlTests;
    use SimpleCacheValueTests;

    /** A pool on this test's storage; see PoolConformanceTestCase::createPool(). */
    abstract protected function createPool(
        string $namespace = 'test',
        int $defaultLifetime = 0,
        bool|array $allowedClasses = false,
        ?object $logger = null
    ): CacheItemPoolInterface;

    protected function createCache(
        string $namespace = 'test',
        int $defaultLifetime = 0,
        bool|array $allowedClasses = false,
        ?object $logger = null
    ): CacheInterface {
        return new Psr16Cache($this->createPool($namespace, $defaultLifetime, $allowedClasses, $logger));
    }

    /** See PoolConformanceTestCase::waitForExpiry(). */
    protected function waitForExpiry(int $seconds = 1): void
    {
        usleep((int) (($seconds + 1.2) * 1_000_000));
    }

    /** @return array<string|int, mixed> */
    protected static function toArray(iterable $items): array
    {
        return is_array($items) ? $items : iterator_to_array($items, true);
    }

    protected static function expectInvalidArgument(callable $call, string $label, array &$failures): void
    {
        try {
            $call();
            $failures[] = "{$label}: no exception";
        } catch (\Throwable $e) {
            foreach ([\Psr\SimpleCache\InvalidArgumentException::class, \LambdaCache\InvalidArgumentException::class] as $interface) {
                if (!$e instanceof $interface) {
                    $failures[] = "{$label}: " . get_class($e) . " is not a {$interface} ({$e->getMessage()})";
                    return;
                }
            }
        }
    }

    protected function assertReported(TestLogger $logger, string $label): void
    {
        $messages = $logger->warnings();
        $this->assertTrue(count($messages) > 0, "{$label}: nothing was reported to the logger");
        foreach ($messages as $message) {
            $this->assertTrue(str_starts_with($message, 'LambdaCache:'), "{$label}: report does not start with 'LambdaCache:': {$message}");
        }
    }

    /** @return \Generator yielding the pairs in $pairs, each [key, value] */
    protected static function pairs(array $pairs): \Generator
    {
        foreach ($pairs as [$key, $value]) {
            yield $key => $value;
        }
    }

    protected static function generate(array $values): \Generator
    {
        yield from $values;
    }
}
