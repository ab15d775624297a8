<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;

/** PSR-6 key rules (docs/platform.md §3.1, §3.2): valid keys, getKey(), reserved characters, validation first. */
trait PoolKeyTests
{
    public function testValidKeysRoundTripSideBySideWithoutCollisions(): void
    {
        $pool = $this->createPool();
        $failures = [];
        foreach (Keys::valid() as $label => $key) {
            if ($pool->save($pool->getItem($key)->set("value of {$label}")) !== true) {
                $failures[] = "{$label}: save did not return true";
            }
        }
        unset($pool);

        $pool = $this->createPool();
        foreach (Keys::valid() as $label => $key) {
            $item = $pool->getItem($key);
            if ($item->getKey() !== $key) {
                $failures[] = "{$label}: getKey() returned " . Values::show($item->getKey());
            }
            if (!$item->isHit() || $item->get() !== "value of {$label}") {
                $failures[] = "{$label}: read back " . ($item->isHit() ? Values::show($item->get()) : 'a miss');
            }
            if ($pool->hasItem($key) !== true) {
                $failures[] = "{$label}: hasItem() is not true";
            }
        }
        $this->assertSame([], $failures);
    }

    public function testGetKeyReturnsTheKeyAsGivenForMissesAndGetItems(): void
    {
        $pool = $this->createPool();
        $keys = array_values(Keys::valid());
        $failures = [];
        foreach ($keys as $key) {
            if ($pool->getItem($key)->getKey() !== $key) {
                $failures[] = 'getItem(' . Values::show($key) . ')->getKey()';
            }
        }
        $items = Items::toArray($pool->getItems($keys));
        $this->assertCount(count($keys), $items);
        foreach ($keys as $key) {
            if (!array_key_exists($key, $items)) {
                $failures[] = 'getItems() has no entry for ' . Values::show($key);
            } elseif ($items[$key]->getKey() !== $key || $items[$key]->isHit()) {
                $failures[] = 'getItems()[' . Values::show($key) . '] has the wrong key or is a hit';
            }
        }
        $this->assertSame([], $failures);
    }

    public function testGetItemsKeysAreTheStringsGivenEvenWhenNumeric(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->save($pool->getItem('123')->set('hit')));
        $cases = [
            'one numeric key' => ['123'],
            'mixed' => ['a', '123', '0', '-7', '1.5', '007', 'a', '123'],
            'none numeric' => ['a', 'b'],
        ];
        foreach (['stored' => $pool, 'with a deferred item' => null] as $mode => $p) {
            if ($p === null) {
                $p = $this->createPool();
                $this->assertTrue($p->saveDeferred($p->getItem('0')->set('deferred')));
            }
            foreach ($cases as $label => $keys) {
                $seen = [];
                foreach ($p->getItems($keys) as $key => $item) {
                    $this->assertSame($item->getKey(), $key, "{$mode}, {$label}: the array key is not the item's key");
                    $seen[] = $key;
                }
                $this->assertSame(array_values(array_unique($keys)), $seen, "{$mode}, {$label}");
            }
            $items = $p->getItems(['123', '0']);
            foreach ($items as $key => $item) {
                $this->assertSame(['123' => 'hit', '0' => $mode === 'stored' ? null : 'deferred'][$key], $item->get(), "{$mode}: {$key}");
            }
        }
        $this->assertIsArray($pool->getItems(['a', 'b']), 'without numeric keys getItems() returns an array');
    }

    public function testDeleteWorksForEveryValidKey(): void
    {
        $pool = $this->createPool();
        $failures = [];
        foreach (Keys::valid() as $label => $key) {
            $this->saveValue($pool, $key, $label);
            if ($pool->deleteItem($key) !== true) {
                $failures[] = "{$label}: deleteItem() did not return true";
            }
            if ($pool->hasItem($key) || $pool->getItem($key)->isHit()) {
                $failures[] = "{$label}: still there after deleteItem()";
            }
        }
        $this->assertSame([], $failures);
    }

    public function testLongKeysSharingAPrefixAreDistinct(): void
    {
        $pool = $this->createPool();
        $prefix = str_repeat('p', 4000);
        $this->assertTrue($this->saveValue($pool, $prefix . 'a', 'A'));
        $this->assertTrue($this->saveValue($pool, $prefix . 'b', 'B'));
        $this->assertTrue($this->saveValue($pool, $prefix, 'prefix'));
        $this->assertSame('A', $pool->getItem($prefix . 'a')->get());
        $this->assertSame('B', $pool->getItem($prefix . 'b')->get());
        $this->assertSame('prefix', $pool->getItem($prefix)->get());
        $this->assertFalse($pool->hasItem($prefix . 'c'));
    }

    public function testInvalidKeysAreRejectedByEveryMethod(): void
    {
        $pool = $this->createPool('test', 0, false, new TestLogger());
        $methods = [
            'getItem' => static fn ($k) => $pool->getItem($k),
            'getItems' => static fn ($k) => $pool->getItems(['valid', $k]),
            'getItems (alone)' => static fn ($k) => $pool->getItems([$k]),
            'hasItem' => static fn ($k) => $pool->hasItem($k),
            'deleteItem' => static fn ($k) => $pool->deleteItem($k),
            'deleteItems' => static fn ($k) => $pool->deleteItems(['valid', $k]),
        ];
        $failures = [];
        foreach ($methods as $method => $call) {
            foreach (Keys::invalid() as $label => $key) {
                self::expectInvalidArgument(static fn () => $call($key), "{$method}({$label})", $failures);
            }
        }
        $this->assertSame([], $failures);
    }

    public function testDeleteItemsValidatesEveryKeyBeforeDeletingAny(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($this->saveValue($pool, 'first', 1));
        $this->assertTrue($this->saveValue($pool, 'last', 2));
        $failures = [];
        foreach (Keys::invalid() as $label => $key) {
            self::expectInvalidArgument(
                static fn () => $pool->deleteItems(['first', $key, 'last']),
                "deleteItems(['first', {$label}, 'last'])",
                $failures
            );
        }
        $this->assertSame([], $failures);
        $this->assertTrue($pool->hasItem('first'), 'deleteItems() deleted a key before finding an invalid one');
        $this->assertTrue($pool->hasItem('last'));
        $this->assertTrue($this->createPool()->hasItem('first'));
    }
}
