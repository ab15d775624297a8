<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use PHPUnit\Framework\TestCase;
use Psr\Cache\CacheItemPoolInterface;

/**
 * PSR-6 conformance suite, written once and run against every store (docs/platform.md §3).
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
    use PoolPhpCodeTests;
    use ConformanceSupport;

    protected static function invalidArgumentInterfaces(): array
    {
        return [\Psr\Cache\InvalidArgumentException::class, \LambdaCache\InvalidArgumentException::class];
    }

    protected function saveValue(CacheItemPoolInterface $pool, string $key, mixed $value): bool
    {
        return $pool->save($pool->getItem($key)->set($value));
    }
}
