<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;

/** PSR-6 expiry (docs/platform.md §3.4, §3.5): one wait for all the short TTLs. */
trait PoolExpiryTests
{
    public function testExpiryForEveryKindOfTtl(): void
    {
        // The short TTL, in seconds: each item must still be a hit when it is checked right after
        // its save, also on a loaded machine, and expired after waitForExpiry($ttl).
        $ttl = 2;
        $forever = $this->createPool('forever', 0);
        $short = $this->createPool('short-default', $ttl);
        $save = static function ($pool, string $key, callable $configure, bool $deferred = false): bool {
            $item = $configure($pool->getItem($deferred ? "deferred-{$key}" : $key)->set("value of {$key}"));
            return $deferred ? $pool->saveDeferred($item) : $pool->save($item);
        };

        // [pool, key, configure, hit after the wait]
        $cases = [
            [$forever, "after-int-{$ttl}", static fn ($i) => $i->expiresAfter($ttl), false],
            [$forever, "after-interval-PT{$ttl}S", static fn ($i) => $i->expiresAfter(new \DateInterval("PT{$ttl}S")), false],
            [$forever, "at-immutable-+{$ttl}s", static fn ($i) => $i->expiresAt(new \DateTimeImmutable("+{$ttl} seconds")), false],
            [$forever, "at-mutable-+{$ttl}s", static fn ($i) => $i->expiresAt(new \DateTime("+{$ttl} seconds")), false],
            [$forever, 'after-int-3600', static fn ($i) => $i->expiresAfter(3600), true],
            [$forever, 'after-interval-P1D', static fn ($i) => $i->expiresAfter(new \DateInterval('P1D')), true],
            [$forever, 'at-+1h', static fn ($i) => $i->expiresAt(new \DateTimeImmutable('+1 hour')), true],
            [$forever, 'after-null', static fn ($i) => $i->expiresAfter(null), true],
            [$forever, 'at-null', static fn ($i) => $i->expiresAt(null), true],
            [$forever, 'plain', static fn ($i) => $i, true],
            [$forever, "after-{$ttl}-then-null", static fn ($i) => $i->expiresAfter($ttl)->expiresAfter(null), true],
            [$forever, "at-+{$ttl}s-then-null", static fn ($i) => $i->expiresAt(new \DateTime("+{$ttl} seconds"))->expiresAt(null), true],
            [$forever, "after-3600-then-{$ttl}", static fn ($i) => $i->expiresAfter(3600)->expiresAfter($ttl), false],
            [$short, 'default-lifetime', static fn ($i) => $i, false],
            [$short, 'default-after-null', static fn ($i) => $i->expiresAfter(60)->expiresAfter(null), false],
            [$short, 'default-at-null', static fn ($i) => $i->expiresAt(new \DateTime('+1 hour'))->expiresAt(null), false],
            [$short, 'default-overridden', static fn ($i) => $i->expiresAfter(3600), true],
            [$short, 'default-overridden-at', static fn ($i) => $i->expiresAt(new \DateTimeImmutable('+1 hour')), true],
        ];
        foreach ($cases as [$pool, $key, $configure]) {
            $this->assertTrue($save($pool, $key, $configure), "save {$key}");
            $this->assertTrue($save($pool, $key, $configure, true), "saveDeferred deferred-{$key}");
            // Checked at once, not after the other saves: the time they take is no part of the TTL.
            foreach ([$key, "deferred-{$key}"] as $k) {
                $this->assertTrue($pool->getItem($k)->isHit(), "{$k} is a hit before it expires");
                $this->assertTrue($pool->hasItem($k), "hasItem({$k}) before it expires");
            }
        }
        $this->assertTrue($forever->commit());
        $this->assertTrue($short->commit());

        $this->waitForExpiry($ttl);

        $failures = [];
        $reopened = ['forever' => $this->createPool('forever', 0), 'short-default' => $this->createPool('short-default', $ttl)];
        foreach ($cases as [$pool, $key, , $hit]) {
            $fresh = $pool === $forever ? $reopened['forever'] : $reopened['short-default'];
            foreach ([$key, "deferred-{$key}"] as $k) {
                foreach (['same pool' => $pool, 'new pool' => $fresh] as $which => $p) {
                    $item = $p->getItem($k);
                    if ($item->isHit() !== $hit || $p->hasItem($k) !== $hit) {
                        $failures[] = "{$k} ({$which}): expected " . ($hit ? 'a hit' : 'a miss');
                    } elseif ($hit && $item->get() !== "value of {$key}") {
                        $failures[] = "{$k} ({$which}): wrong value";
                    } elseif (!$hit && $item->get() !== null) {
                        $failures[] = "{$k} ({$which}): expired item has a value";
                    }
                    $fromMany = Items::toArray($p->getItems([$k]));
                    if (!isset($fromMany[$k]) || $fromMany[$k]->isHit() !== $hit) {
                        $failures[] = "getItems([{$k}]) ({$which}): expected " . ($hit ? 'a hit' : 'a miss');
                    }
                }
            }
        }
        $this->assertSame([], $failures);
    }

    public function testExpiryInThePastIsAMissAtOnce(): void
    {
        $pool = $this->createPool();
        $cases = [
            'at-past' => static fn ($i) => $i->expiresAt(new \DateTimeImmutable('-1 hour')),
            'at-past-mutable' => static fn ($i) => $i->expiresAt(new \DateTime('-10 seconds')),
            'after-negative' => static fn ($i) => $i->expiresAfter(-5),
            'after-negative-interval' => static function ($i) {
                $interval = new \DateInterval('PT10S');
                $interval->invert = 1;
                return $i->expiresAfter($interval);
            },
        ];
        foreach ($cases as $key => $configure) {
            // An existing value must not come back once it is overwritten by an expired one.
            $this->assertTrue($this->saveValue($pool, $key, 'old'));
            $pool->save($configure($pool->getItem($key)->set('new')));
            $this->assertFalse($pool->getItem($key)->isHit(), "{$key} is a miss");
            $this->assertNull($pool->getItem($key)->get(), "{$key} has no value");
            $this->assertFalse($pool->hasItem($key), "hasItem({$key})");
            $this->assertFalse($this->createPool()->hasItem($key), "hasItem({$key}) on a new pool");

            $pool->saveDeferred($configure($pool->getItem("deferred-{$key}")->set('new')));
            $this->assertFalse($pool->getItem("deferred-{$key}")->isHit(), "deferred-{$key} is a miss before commit");
            $this->assertFalse($pool->hasItem("deferred-{$key}"), "hasItem(deferred-{$key}) before commit");
            $pool->commit();
            $this->assertFalse($pool->hasItem("deferred-{$key}"), "hasItem(deferred-{$key}) after commit");
        }
    }

    public function testFarFutureExpiresAtIsFarFutureNotADeletion(): void
    {
        // Dates past what int milliseconds hold: their expiry once overflowed into PHP_INT_MIN
        // or 0, in the past, so save() returned true and deleted the item.
        $pool = $this->createPool();
        $cases = [
            'at-9223372036854775' => new \DateTimeImmutable('@9223372036854775'),
            'at-PHP_INT_MAX' => new \DateTimeImmutable('@' . \PHP_INT_MAX),
            'at-mutable-PHP_INT_MAX' => new \DateTime('@' . \PHP_INT_MAX),
            'at-year-9999' => new \DateTimeImmutable('9999-12-31 23:59:59'),
        ];
        $failures = [];
        foreach ($cases as $key => $at) {
            $this->assertTrue($this->saveValue($pool, $key, 'old'));
            if (!$pool->save($pool->getItem($key)->set('new')->expiresAt($at))) {
                $failures[] = "save({$key})";
            }
            $pool->saveDeferred($pool->getItem("deferred-{$key}")->set('new')->expiresAt($at));
            if ($pool->getItem("deferred-{$key}")->get() !== 'new') {
                $failures[] = "deferred-{$key} before commit";
            }
        }
        $this->assertTrue($pool->commit());
        $fresh = $this->createPool();
        foreach (\array_keys($cases) as $key) {
            foreach ([$key, "deferred-{$key}"] as $k) {
                foreach (['same pool' => $pool, 'new pool' => $fresh] as $which => $p) {
                    $item = $p->getItem($k);
                    if (!$item->isHit() || $item->get() !== 'new') {
                        $failures[] = "{$k} ({$which}): " . ($item->isHit() ? \var_export($item->get(), true) : 'a miss');
                    }
                }
            }
        }
        $this->assertSame([], $failures);

        // And the far past stays a deletion.
        $this->assertTrue($this->saveValue($pool, 'at-far-past', 'old'));
        $pool->save($pool->getItem('at-far-past')->set('new')->expiresAt(new \DateTimeImmutable('@-9223372036854775')));
        $this->assertFalse($pool->hasItem('at-far-past'));
    }

    public function testInvalidExpirationsAreRejected(): void
    {
        $item = $this->createPool()->getItem('k');
        $failures = [];
        $invalid = ['string' => 'x', 'numeric string' => '10', 'float' => 1.5, 'array' => [], 'true' => true, 'object' => new \stdClass()];
        foreach ($invalid as $label => $value) {
            self::expectInvalidArgument(static fn () => $item->expiresAfter($value), "expiresAfter({$label})", $failures);
        }
        $invalid += ['int timestamp' => time() + 60, 'DateInterval' => new \DateInterval('PT1S')];
        foreach ($invalid as $label => $value) {
            self::expectInvalidArgument(static fn () => $item->expiresAt($value), "expiresAt({$label})", $failures);
        }
        $this->assertSame([], $failures);
    }
}
