<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\ForeignItem;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use Psr\Cache\CacheItemInterface;

/** PSR-6 items, getItems(), save, delete and clear (docs/platform.md §3.6, §3.8). */
trait PoolItemTests
{
    public function testMissingItemIsAMissWithNullValue(): void
    {
        $pool = $this->createPool();
        $item = $pool->getItem('missing');
        $this->assertInstanceOf(CacheItemInterface::class, $item);
        $this->assertSame('missing', $item->getKey());
        $this->assertFalse($item->isHit());
        $this->assertNull($item->get());
        $this->assertFalse($pool->hasItem('missing'));
    }

    public function testItemMethodsAreFluent(): void
    {
        $item = $this->createPool()->getItem('fluent');
        $this->assertSame($item, $item->set('v'));
        $this->assertSame($item, $item->expiresAfter(10));
        $this->assertSame($item, $item->expiresAfter(new \DateInterval('PT10S')));
        $this->assertSame($item, $item->expiresAfter(null));
        $this->assertSame($item, $item->expiresAt(new \DateTimeImmutable('+10 seconds')));
        $this->assertSame($item, $item->expiresAt(new \DateTime('+10 seconds')));
        $this->assertSame($item, $item->expiresAt(null));
    }

    public function testSaveThenGetFromTheSameAndANewPool(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->save($pool->getItem('k')->set('value')));
        $item = $pool->getItem('k');
        $this->assertTrue($item->isHit());
        $this->assertSame('value', $item->get());
        $this->assertTrue($pool->hasItem('k'));

        $other = $this->createPool();
        $this->assertTrue($other->getItem('k')->isHit());
        $this->assertSame('value', $other->getItem('k')->get());
    }

    public function testSaveOverwrites(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($this->saveValue($pool, 'k', 'old'));
        $this->assertTrue($this->saveValue($pool, 'k', ['new']));
        $this->assertSame(['new'], $pool->getItem('k')->get());
        $this->assertSame(['new'], $this->createPool()->getItem('k')->get());
    }

    public function testChangingAnItemAfterSaveDoesNotChangeTheStoredValue(): void
    {
        $pool = $this->createPool();
        $item = $pool->getItem('k')->set('saved');
        $this->assertTrue($pool->save($item));
        $item->set('changed but not saved');
        $this->assertSame('saved', $this->createPool()->getItem('k')->get());

        $fetched = $pool->getItem('k');
        $fetched->set('changed again');
        $this->assertSame('saved', $pool->getItem('k')->get());
    }

    public function testNullAndFalseAreHits(): void
    {
        $pool = $this->createPool();
        foreach (['null' => null, 'false' => false, 'empty' => '', 'zero' => 0, 'empty-array' => []] as $key => $value) {
            $this->assertTrue($this->saveValue($pool, $key, $value), "save {$key}");
        }
        foreach ([$pool, $this->createPool()] as $p) {
            foreach (['null' => null, 'false' => false, 'empty' => '', 'zero' => 0, 'empty-array' => []] as $key => $value) {
                $item = $p->getItem($key);
                $this->assertTrue($item->isHit(), "{$key} is a hit");
                $this->assertSame($value, $item->get(), "{$key} value");
                $this->assertTrue($p->hasItem($key), "hasItem({$key})");
            }
        }
        $items = Items::toArray($pool->getItems(['null', 'false']));
        $this->assertTrue($items['null']->isHit());
        $this->assertTrue($items['false']->isHit());
        $this->assertFalse($items['false']->get());
    }

    public function testGetItemsReturnsEveryKeyKeyedByKeyMissesIncluded(): void
    {
        $pool = $this->createPool();
        $this->saveValue($pool, 'a', 'A');
        $this->saveValue($pool, 'b', null);
        $items = Items::toArray($pool->getItems(['a', 'missing', 'b', 'other-missing']));
        $this->assertCount(4, $items);
        $expected = ['a' => [true, 'A'], 'missing' => [false, null], 'b' => [true, null], 'other-missing' => [false, null]];
        foreach ($expected as $key => [$hit, $value]) {
            $this->assertArrayHasKey($key, $items);
            $this->assertInstanceOf(CacheItemInterface::class, $items[$key]);
            $this->assertSame($key, $items[$key]->getKey());
            $this->assertSame($hit, $items[$key]->isHit(), "isHit of {$key}");
            $this->assertSame($value, $items[$key]->get(), "value of {$key}");
        }
    }

    public function testGetItemsWithNoKeysIsEmpty(): void
    {
        $pool = $this->createPool();
        $this->saveValue($pool, 'a', 1);
        $this->assertCount(0, Items::toArray($pool->getItems([])));
        $this->assertCount(0, Items::toArray($pool->getItems()));
    }

    public function testGetItemsWithDuplicateKeysAndNumericKeys(): void
    {
        $pool = $this->createPool();
        $this->saveValue($pool, 'dup', 'D');
        $this->saveValue($pool, '123', 'digits');
        $items = Items::toArray($pool->getItems(['dup', 'dup', '123']));
        $this->assertCount(2, $items);
        $this->assertSame('D', $items['dup']->get());
        $this->assertSame('digits', $items['123']->get());
        $this->assertSame('123', $items['123']->getKey());
    }

    public function testGetItemsSeesManyKeys(): void
    {
        $pool = $this->createPool();
        $keys = [];
        for ($i = 0; $i < 250; $i++) {
            $keys[] = "many.{$i}";
            if ($i % 2 === 0) {
                $this->assertTrue($pool->saveDeferred($pool->getItem("many.{$i}")->set($i)));
            }
        }
        $this->assertTrue($pool->commit());
        $items = Items::toArray($this->createPool()->getItems($keys));
        $this->assertCount(250, $items);
        for ($i = 0; $i < 250; $i++) {
            $item = $items["many.{$i}"];
            $this->assertSame($i % 2 === 0, $item->isHit(), "many.{$i}");
            $this->assertSame($i % 2 === 0 ? $i : null, $item->get(), "many.{$i}");
        }
    }

    public function testDeletingMissingKeysIsSuccess(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->deleteItem('never-saved'));
        $this->assertTrue($pool->deleteItems(['never-saved', 'also-never']));
        $this->assertTrue($pool->deleteItems([]));
    }

    public function testDeleteItemsRemovesOnlyTheGivenKeys(): void
    {
        $pool = $this->createPool();
        foreach (['a', 'b', 'c'] as $k) {
            $this->saveValue($pool, $k, $k);
        }
        $this->assertTrue($pool->deleteItems(['a', 'c', 'missing']));
        $this->assertFalse($pool->hasItem('a'));
        $this->assertTrue($pool->hasItem('b'));
        $this->assertFalse($this->createPool()->hasItem('c'));
    }

    public function testClearRemovesEverything(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->clear());
        foreach (['a', 'b'] as $k) {
            $this->saveValue($pool, $k, $k);
        }
        $this->assertTrue($pool->clear());
        $this->assertFalse($pool->hasItem('a'));
        $this->assertFalse($pool->getItem('b')->isHit());
        $this->assertFalse($this->createPool()->hasItem('a'));
        $this->assertTrue($this->saveValue($pool, 'a', 'again'));
        $this->assertSame('again', $pool->getItem('a')->get());
    }

    public function testItemsOfAnotherImplementationAreRefused(): void
    {
        $logger = new TestLogger();
        $pool = $this->createPool('test', 0, false, $logger);
        foreach (['save', 'saveDeferred'] as $method) {
            try {
                $this->assertFalse($pool->{$method}(new ForeignItem("foreign-{$method}", 'v')), "{$method}() of a foreign item");
            } catch (\Psr\Cache\InvalidArgumentException $e) {
                $this->assertInstanceOf(\LambdaCache\InvalidArgumentException::class, $e);
            }
        }
        $pool->commit();
        $this->assertFalse($this->createPool()->hasItem('foreign-save'));
        $this->assertFalse($this->createPool()->hasItem('foreign-saveDeferred'));
    }
}
