<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Psr16Cache;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;

/**
 * Expired is a miss, always (docs/platform.md §3.4): DynamoDB deletes TTL-expired items days later and the
 * emulator never does, so expired items are still in the table when they are read.
 */
final class DynamoStoreExpiryTest extends TestCase
{
    use DynamoTableFixture;

    public function testExpiredItemsThatAreStillInTheTableAreMisses(): void
    {
        // Each expiring item is checked right after it is written, and with a TTL of 2 s, so that
        // "a hit before it expires" holds on a loaded machine too (the child PHP process alone
        // can take a good part of a second to start).
        $logger = new TestLogger();
        $pool = $this->dynamoPool(['namespace' => 'exp', 'logger' => $logger]);
        $short = $this->dynamoPool(['namespace' => 'exp-default', 'defaultLifetime' => 2, 'logger' => $logger]);
        $hitBeforeExpiry = function (string $key) use ($pool): void {
            $this->assertTrue($pool->hasItem($key), "{$key} is a hit before it expires");
        };
        $this->assertTrue($pool->save($pool->getItem('after-2')->set('a')->expiresAfter(2)));
        $hitBeforeExpiry('after-2');
        $this->assertTrue($pool->save($pool->getItem('at-2')->set('b')->expiresAt(new \DateTimeImmutable('+2 seconds'))));
        $hitBeforeExpiry('at-2');
        $this->assertTrue($pool->saveDeferred($pool->getItem('deferred-2')->set('c')->expiresAfter(2)));
        $this->assertTrue($pool->commit());
        $hitBeforeExpiry('deferred-2');
        $this->assertTrue($pool->save($pool->getItem('kept')->set('k')->expiresAfter(3600)));
        $this->assertTrue($pool->save($pool->getItem('forever')->set('f')));
        $this->assertTrue($short->save($short->getItem('default')->set('d')));
        $this->assertTrue($short->hasItem('default'), 'default is a hit before it expires');
        $this->assertTrue((new Psr16Cache($pool))->set('psr16-2', 'e', 2));
        $hitBeforeExpiry('psr16-2');

        // Another process (another pool, another runtime) writes an item that expires too, and
        // reads it back at once; the parent reads it as soon as the child is done.
        $r = Php::run(
            '$p = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: "exp");'
            . 'echo json_encode([$p->save($p->getItem("from-child")->set("child")->expiresAfter(2)), $p->hasItem("from-child")]);',
            ['table' => $this->table, 'endpoint' => $this->endpoint]
        );
        $this->assertSame('[true,true]', $r->stdout, $r->describe());
        $hitBeforeExpiry('from-child');

        $expiring = ['after-2', 'at-2', 'deferred-2', 'psr16-2', 'from-child'];
        $stored = count($this->rawValueItems());
        $this->assertTrue($stored >= 8, "the table holds the 8 items written, found {$stored}");

        usleep(3_200_000);

        $fresh = $this->dynamoPool(['namespace' => 'exp', 'logger' => $logger]);
        $failures = [];
        foreach ($expiring as $key) {
            foreach (['same pool' => $pool, 'new pool' => $fresh] as $which => $p) {
                if ($p->getItem($key)->isHit() || $p->getItem($key)->get() !== null) {
                    $failures[] = "getItem({$key}), {$which}: expired item returned";
                }
                if ($p->hasItem($key)) {
                    $failures[] = "hasItem({$key}), {$which}";
                }
                if (Items::toArray($p->getItems([$key, 'kept']))[$key]->isHit()) {
                    $failures[] = "getItems([{$key}, kept]), {$which}: expired item returned";
                }
            }
            if ((new Psr16Cache($fresh))->get($key, 'default') !== 'default') {
                $failures[] = "Psr16Cache::get({$key}): expired item returned";
            }
        }
        foreach (['same pool' => $short, 'new pool' => $this->dynamoPool(['namespace' => 'exp-default', 'defaultLifetime' => 2])] as $which => $p) {
            if ($p->hasItem('default')) {
                $failures[] = "default lifetime of 2 s, {$which}: expired item returned";
            }
        }
        $this->assertSame([], $failures);
        $this->assertSame('k', $fresh->getItem('kept')->get());
        $this->assertSame('f', $fresh->getItem('forever')->get());
        $this->assertSame(
            ['after-2' => false, 'kept' => true, 'forever' => true],
            array_map(static fn ($item) => $item->isHit(), Items::toArray($fresh->getItems(['after-2', 'kept', 'forever'])))
        );
        $this->assertSame([], $logger->warnings());

        // The point of the test: the expired items were read while still in the table.
        $this->assertSame($stored, count($this->rawValueItems()), 'expired items are still in the table (the emulator does not expire them)');
        $expired = array_filter($this->rawValueItems(), static fn (array $item) => isset($item['ttl']['N']) && (int) $item['ttl']['N'] <= time());
        $this->assertTrue(count($expired) >= 6, 'the expired items have a ttl attribute in the past, found ' . count($expired));
    }

    public function testAnItemWhoseTtlAttributeIsInThePastIsAMiss(): void
    {
        // DynamoDB expires by the ttl attribute alone: an item another writer stored with a ttl in
        // the past is expired even when its encoded value says otherwise.
        $pool = $this->dynamoPool(['namespace' => 'ttl']);
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')->expiresAfter(3600)));
        $items = $this->rawValueItems();
        $this->assertCount(1, $items, 'one item in the table');
        $item = $items[0];
        $this->assertTrue(isset($item['ttl']['N']), 'the item has a Number ttl attribute: ' . json_encode($item));
        $item['ttl'] = ['N' => (string) (time() - 60)];
        $this->client()->putItem($this->table, $item);

        $reader = $this->dynamoPool(['namespace' => 'ttl']);
        $this->assertFalse($reader->getItem('k')->isHit(), 'getItem(): the ttl attribute is in the past');
        $this->assertFalse($reader->hasItem('k'));
        $this->assertFalse(Items::toArray($reader->getItems(['k']))['k']->isHit(), 'getItems(): the ttl attribute is in the past');
        $this->assertSame('gone', (new Psr16Cache($reader))->get('k', 'gone'));
    }

    public function testPruneSucceedsAndKeepsLiveItems(): void
    {
        // DynamoDB deletes expired items itself (TTL); prune() has nothing to scan for.
        $pool = $this->dynamoPool(['namespace' => 'prune', 'logger' => $logger = new TestLogger()]);
        $this->assertTrue($pool->save($pool->getItem('live')->set('v')->expiresAfter(3600)));
        $this->assertTrue($pool->prune());
        $this->assertSame('v', $pool->getItem('live')->get());
        $this->assertSame([], $logger->warnings());
    }

    public function testExpiryInThePastDeletesTheStoredItem(): void
    {
        $pool = $this->dynamoPool(['namespace' => 'past']);
        $this->assertTrue($pool->save($pool->getItem('k')->set('old')));
        $pool->save($pool->getItem('k')->set('new')->expiresAt(new \DateTimeImmutable('-1 minute')));
        $this->assertFalse($this->dynamoPool(['namespace' => 'past'])->hasItem('k'));
        $this->assertSame([], $this->rawValueItems(), 'an item saved already expired leaves nothing in the table');
    }
}
