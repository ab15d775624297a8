<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Psr16Cache;
use PHPUnit\Framework\TestCase;
use Psr\Cache\CacheItemPoolInterface;
use Psr\SimpleCache\CacheInterface;

/**
 * PSR-16 conformance suite, written once and run against every store (docs/platform.md §3),
 * through LambdaCache\Psr16Cache over the store's pool.
 */
abstract class SimpleCacheConformanceTestCase extends TestCase
{
    use SimpleCacheKeyTests;
    use SimpleCacheBasicTests;
    use SimpleCacheMultipleTests;
    use SimpleCacheTtlTests;
    use SimpleCacheValueTests;
    use ConformanceSupport;

    protected function createCache(
        string $namespace = 'test',
        int $defaultLifetime = 0,
        bool|array|null $allowedClasses = null,
        ?object $logger = null
    ): CacheInterface {
        return new Psr16Cache($this->createPool($namespace, $defaultLifetime, $allowedClasses, $logger));
    }

    protected static function invalidArgumentInterfaces(): array
    {
        return [\Psr\SimpleCache\InvalidArgumentException::class, \LambdaCache\InvalidArgumentException::class];
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
