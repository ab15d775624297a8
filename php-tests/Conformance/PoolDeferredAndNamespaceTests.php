<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;

/** PSR-6 deferred saves (docs/platform.md §3.7) and namespaces (§3.9). */
trait PoolDeferredAndNamespaceTests
{
    public function testDeferredItemsAreVisibleBeforeCommit(): void
    {
        $pool = $this->createPool();
        $this->saveValue($pool, 'existing', 'stored');
        $this->assertTrue($pool->saveDeferred($pool->getItem('deferred')->set('D')));
        $this->assertTrue($pool->saveDeferred($pool->getItem('existing')->set('deferred over stored')));
        $this->assertTrue($pool->saveDeferred($pool->getItem('deferred-null')->set(null)));

        $this->assertTrue($pool->hasItem('deferred'));
        $item = $pool->getItem('deferred');
        $this->assertTrue($item->isHit());
        $this->assertSame('D', $item->get());
        $this->assertSame('deferred over stored', $pool->getItem('existing')->get());
        $this->assertTrue($pool->getItem('deferred-null')->isHit());

        $items = Items::toArray($pool->getItems(['deferred', 'existing', 'deferred-null', 'missing']));
        $this->assertCount(4, $items);
        $this->assertSame('D', $items['deferred']->get());
        $this->assertTrue($items['deferred']->isHit());
        $this->assertSame('deferred over stored', $items['existing']->get());
        $this->assertTrue($items['deferred-null']->isHit());
        $this->assertFalse($items['missing']->isHit());

        $this->assertTrue($pool->commit());
        $other = $this->createPool();
        $this->assertSame('D', $other->getItem('deferred')->get());
        $this->assertSame('deferred over stored', $other->getItem('existing')->get());
        $this->assertTrue($other->hasItem('deferred-null'));
    }

    public function testADeferredItemKeepsItsExpiryThroughGetItemAndGetItems(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->saveDeferred($pool->getItem('short')->set('S')->expiresAfter(1)));
        $viaItems = Items::toArray($pool->getItems(['short']))['short'];
        $viaItem = $pool->getItem('short');
        $this->assertTrue($viaItems->isHit() && $viaItem->isHit());
        // Saved again as they came back: they must still expire, not take the default lifetime (none).
        $this->assertTrue($pool->save($viaItems));
        $this->assertTrue($this->createPool()->hasItem('short'));
        $this->waitForExpiry(1);
        $this->assertFalse($this->createPool()->getItem('short')->isHit(), 'the item from getItems() lost its expiry');
        // Its expiry has passed by now: kept, it makes save() delete the key; lost, it stores it for good.
        $this->assertTrue($pool->save($viaItem));
        $this->assertFalse($this->createPool()->getItem('short')->isHit(), 'the item from getItem() lost its expiry');
    }

    public function testTtlsOfCenturiesAreFarFutureNotErrors(): void
    {
        $pool = $this->createPool(defaultLifetime: \PHP_INT_MAX);
        $this->assertTrue($this->saveValue($pool, 'default', 1), 'defaultLifetime PHP_INT_MAX');
        $this->assertTrue($pool->save($pool->getItem('after')->set(2)->expiresAfter(\PHP_INT_MAX)));
        $this->assertTrue($pool->save($pool->getItem('interval')->set(3)->expiresAfter(new \DateInterval('P9000Y'))));
        $this->assertTrue($pool->saveDeferred($pool->getItem('deferred')->set(4)->expiresAfter(\PHP_INT_MAX)));
        $this->assertTrue($pool->commit());
        $other = $this->createPool();
        foreach (['default' => 1, 'after' => 2, 'interval' => 3, 'deferred' => 4] as $key => $value) {
            $this->assertSame($value, $other->getItem($key)->get(), $key);
        }
    }

    public function testCommitWithNothingDeferredIsSuccess(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->commit());
        $this->assertTrue($pool->saveDeferred($pool->getItem('k')->set(1)));
        $this->assertTrue($pool->commit());
        $this->assertTrue($pool->commit());
        $this->assertSame(1, $this->createPool()->getItem('k')->get());
    }

    public function testDeferredItemsAreCommittedWhenThePoolIsDestroyed(): void
    {
        $pool = $this->createPool();
        $item = $pool->getItem('on-destruct')->set(['committed' => true]);
        $this->assertTrue($pool->saveDeferred($item));
        $this->assertTrue($pool->saveDeferred($pool->getItem('on-destruct-2')->set(2)));
        unset($item, $pool);
        gc_collect_cycles();

        $other = $this->createPool();
        $this->assertSame(['committed' => true], $other->getItem('on-destruct')->get());
        $this->assertSame(2, $other->getItem('on-destruct-2')->get());
    }

    public function testDeletingADeferredItemBeforeCommit(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->saveDeferred($pool->getItem('k')->set('v')));
        $this->assertTrue($pool->deleteItem('k'));
        $this->assertFalse($pool->hasItem('k'));
        $this->assertFalse($pool->getItem('k')->isHit());
        $this->assertTrue($pool->commit());
        $this->assertFalse($pool->hasItem('k'));
        $this->assertFalse($this->createPool()->hasItem('k'));

        $this->assertTrue($pool->saveDeferred($pool->getItem('k2')->set('v')));
        $this->assertTrue($pool->deleteItems(['k2']));
        $this->assertFalse($pool->hasItem('k2'));
        $pool->commit();
        $this->assertFalse($this->createPool()->hasItem('k2'));
    }

    public function testClearDropsDeferredItems(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->saveDeferred($pool->getItem('k')->set('v')));
        $this->assertTrue($pool->clear());
        $this->assertFalse($pool->hasItem('k'));
        $pool->commit();
        $this->assertFalse($this->createPool()->hasItem('k'));
    }

    public function testNamespacesAreIndependent(): void
    {
        $a = $this->createPool('alpha');
        $b = $this->createPool('beta');
        $default = $this->createPool('');
        $this->assertTrue($this->saveValue($a, 'k', 'in alpha'));
        $this->assertTrue($this->saveValue($b, 'k', 'in beta'));
        $this->assertFalse($default->hasItem('k'));
        $this->assertTrue($this->saveValue($default, 'k', 'in default'));
        $this->assertTrue($this->saveValue($a, 'only-alpha', 1));

        $this->assertSame('in alpha', $a->getItem('k')->get());
        $this->assertSame('in beta', $b->getItem('k')->get());
        $this->assertSame('in default', $default->getItem('k')->get());
        $this->assertFalse($b->hasItem('only-alpha'));
        $this->assertFalse($b->getItem('only-alpha')->isHit());
        $this->assertFalse(Items::toArray($b->getItems(['only-alpha']))['only-alpha']->isHit());

        $this->assertTrue($b->deleteItem('k'));
        $this->assertSame('in alpha', $a->getItem('k')->get());
        $this->assertTrue($b->deleteItems(['only-alpha']));
        $this->assertTrue($a->hasItem('only-alpha'));
    }

    public function testClearClearsOnlyItsOwnNamespace(): void
    {
        $a = $this->createPool('alpha');
        $b = $this->createPool('beta');
        $default = $this->createPool('');
        $this->saveValue($a, 'k', 'A');
        $this->saveValue($b, 'k', 'B');
        $this->saveValue($default, 'k', 'D');
        $this->assertTrue($b->saveDeferred($b->getItem('deferred')->set('B')));

        $this->assertTrue($a->clear());
        $this->assertFalse($a->hasItem('k'));
        $this->assertFalse($this->createPool('alpha')->hasItem('k'));
        $this->assertSame('B', $b->getItem('k')->get());
        $this->assertSame('B', $b->getItem('deferred')->get());
        $this->assertSame('D', $default->getItem('k')->get());

        $this->assertTrue($default->clear());
        $this->assertSame('B', $this->createPool('beta')->getItem('k')->get());
    }

    public function testNamespacesThatArePrefixesOfEachOtherDoNotMix(): void
    {
        $ab = $this->createPool('ab');
        $a = $this->createPool('a');
        $this->assertTrue($this->saveValue($ab, 'c', 'ab + c'));
        $this->assertTrue($this->saveValue($a, 'bc', 'a + bc'));
        $this->assertTrue($this->saveValue($a, 'b.c', 'a + b.c'));
        $this->assertTrue($this->saveValue($a, 'b_c', 'a + b_c'));
        $this->assertFalse($a->hasItem('c'));
        $this->assertFalse($ab->hasItem('bc'));
        $this->assertSame('ab + c', $ab->getItem('c')->get());
        $this->assertSame('a + bc', $a->getItem('bc')->get());

        $this->assertTrue($a->clear());
        $this->assertSame('ab + c', $this->createPool('ab')->getItem('c')->get(), "clear() of 'a' removed an entry of 'ab'");
        $this->assertTrue($this->saveValue($a, 'x', 1));
        $this->assertTrue($ab->clear());
        $this->assertTrue($this->createPool('a')->hasItem('x'), "clear() of 'ab' removed an entry of 'a'");
    }

    public function testClearIsSeenByOtherPoolsOfTheSameNamespace(): void
    {
        $first = $this->createPool('shared');
        $second = $this->createPool('shared');
        $this->saveValue($first, 'k', 'v');
        $this->assertTrue($second->hasItem('k'));
        $this->assertTrue($second->clear());
        $this->assertFalse($first->hasItem('k'));
        $this->assertFalse($first->getItem('k')->isHit());
    }
}
