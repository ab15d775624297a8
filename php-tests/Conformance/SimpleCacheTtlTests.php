<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;

/** PSR-16 TTLs (docs/platform.md §3.4, §3.5): one wait for all the short ones. */
trait SimpleCacheTtlTests
{
    public function testExpiryForEveryKindOfTtl(): void
    {
        $forever = $this->createCache('forever', 0);
        // Short TTLs are 2 s: every "before it expires" check below must come before them, also
        // on a loaded machine and a store one network round trip per call away.
        $short = $this->createCache('short-default', 2);
        // [cache, key, ttl, hit after the wait]
        $cases = [
            [$forever, 'int-2', 2, false],
            [$forever, 'interval-PT2S', new \DateInterval('PT2S'), false],
            [$forever, 'int-3600', 3600, true],
            [$forever, 'interval-P1D', new \DateInterval('P1D'), true],
            [$forever, 'null', null, true],
            [$short, 'default-lifetime', null, false],
            [$short, 'default-overridden', 3600, true],
            [$short, 'default-overridden-interval', new \DateInterval('PT1H'), true],
        ];
        foreach ($cases as [$cache, $key, $ttl]) {
            $this->assertTrue($cache->set($key, "value of {$key}", $ttl), "set {$key}");
            $this->assertTrue($cache->setMultiple(["multi-{$key}" => "value of {$key}", "multi2-{$key}" => "value of {$key}"], $ttl), "setMultiple {$key}");
        }
        $this->assertTrue($forever->set('no-ttl-argument', 'value of no-ttl-argument'));
        $this->assertTrue($short->set('no-ttl-argument', 'value of no-ttl-argument'));
        $cases[] = [$forever, 'no-ttl-argument', null, true];
        $cases[] = [$short, 'no-ttl-argument', null, false];

        foreach ($cases as [$cache, $key]) {
            $this->assertTrue($cache->has($key), "{$key} before it expires");
            $this->assertSame("value of {$key}", $cache->get($key), "{$key} before it expires");
        }

        $this->waitForExpiry(2);

        $failures = [];
        $reopened = [$this->createCache('forever', 0), $this->createCache('short-default', 2)];
        foreach ($cases as [$cache, $key, , $hit]) {
            $fresh = $cache === $forever ? $reopened[0] : $reopened[1];
            $keys = $key === 'no-ttl-argument' ? [$key] : [$key, "multi-{$key}", "multi2-{$key}"];
            foreach ($keys as $k) {
                foreach (['same cache' => $cache, 'new cache' => $fresh] as $which => $c) {
                    $expected = $hit ? "value of {$key}" : 'miss';
                    if ($c->get($k, 'miss') !== $expected || $c->has($k) !== $hit) {
                        $failures[] = "{$k} ({$which}): expected " . ($hit ? 'a hit' : 'a miss');
                    }
                    if ((Items::toArray($c->getMultiple([$k], 'miss'))[$k] ?? null) !== $expected) {
                        $failures[] = "getMultiple([{$k}]) ({$which}): expected " . ($hit ? 'a hit' : 'a miss');
                    }
                }
            }
        }
        $this->assertSame([], $failures);
    }

    public function testZeroOrNegativeTtlDeletesTheKey(): void
    {
        $cache = $this->createCache();
        $negative = new \DateInterval('PT5S');
        $negative->invert = 1;
        $ttls = ['zero' => 0, 'minus one' => -1, 'very negative' => -86400, 'zero interval' => new \DateInterval('PT0S'), 'negative interval' => $negative];
        foreach ($ttls as $label => $ttl) {
            $this->assertTrue($cache->set('k', 'old'));
            $this->assertTrue($cache->set('k', 'new', $ttl), "set() with ttl {$label}");
            $this->assertFalse($cache->has('k'), "has() after set() with ttl {$label}");
            $this->assertSame('miss', $cache->get('k', 'miss'), "get() after set() with ttl {$label}");
            $this->assertFalse($this->createCache()->has('k'), "new cache, ttl {$label}");

            $this->assertTrue($cache->setMultiple(['m1' => 'old', 'm2' => 'old']));
            $this->assertTrue($cache->setMultiple(['m1' => 'new', 'm2' => 'new', 'm3' => 'new'], $ttl), "setMultiple() with ttl {$label}");
            $this->assertSame(
                ['m1' => 'miss', 'm2' => 'miss', 'm3' => 'miss'],
                Items::toArray($this->createCache()->getMultiple(['m1', 'm2', 'm3'], 'miss')),
                "setMultiple() with ttl {$label}"
            );
        }
    }

    public function testTtlsOfCenturiesAreFarFutureNotErrors(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->set('far', 1, \PHP_INT_MAX));
        $this->assertTrue($cache->setMultiple(['far-many' => 2], \PHP_INT_MAX));
        $this->assertTrue($cache->set('far-interval', 3, new \DateInterval('P9000Y')));
        $this->assertSame(['far' => 1, 'far-many' => 2, 'far-interval' => 3], Items::toArray($cache->getMultiple(['far', 'far-many', 'far-interval'])));
        $this->assertTrue($cache->set('past', 4, \PHP_INT_MIN));
        $this->assertFalse($cache->has('past'), 'a TTL of PHP_INT_MIN seconds is in the past');
    }

    public function testInvalidTtlTypesAreRejected(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->set('k', 'kept'));
        $invalid = [
            'string' => 'x',
            'numeric string' => '10',
            'float' => 1.5,
            'array' => [],
            'true' => true,
            'false' => false,
            'stdClass' => new \stdClass(),
            'DateTimeImmutable' => new \DateTimeImmutable('+1 hour'),
        ];
        $failures = [];
        foreach ($invalid as $label => $ttl) {
            self::expectInvalidArgument(static fn () => $cache->set('k', 'changed', $ttl), "set(ttl {$label})", $failures);
            self::expectInvalidArgument(static fn () => $cache->setMultiple(['k' => 'changed'], $ttl), "setMultiple(ttl {$label})", $failures);
        }
        $this->assertSame([], $failures);
        $this->assertSame('kept', $this->createCache()->get('k'), 'an invalid TTL changed the stored value');
    }
}
