<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Psr16Cache;
use LambdaCache\Dev\FaultProxy;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;

/**
 * Batches beyond DynamoDB's limits (docs/platform.md §4: BatchGetItem <= 100 keys, BatchWriteItem <= 25
 * requests, no duplicate keys): the emulator rejects oversized or duplicated batches, so right
 * answers prove the chunking; a counting proxy shows that no call goes key by key.
 */
final class DynamoStoreBatchTest extends TestCase
{
    use DynamoTableFixture;

    public function testGetItemsOf250KeysWithHitsAndMisses(): void
    {
        $logger = new TestLogger();
        $writer = $this->dynamoPool(['namespace' => 'batch', 'logger' => $logger]);
        $keys = [];
        for ($i = 0; $i < 250; $i++) {
            // Long keys too (hashed into the partition key): the answers must map back to them.
            $keys[] = $i % 10 === 0 ? str_repeat('long', 600) . "-{$i}" : "key-{$i}";
        }
        foreach ($keys as $i => $key) {
            if ($i % 3 !== 1) {
                $this->assertTrue($writer->saveDeferred($writer->getItem($key)->set(['i' => $i, 'pad' => str_repeat('p', $i * 20)])));
            }
        }
        $this->assertTrue($writer->commit(), 'commit of ' . count($keys) . ' deferred items');

        $reader = $this->dynamoPool(['namespace' => 'batch', 'logger' => $logger]);
        $items = Items::toArray($reader->getItems($keys));
        $this->assertSame($keys, array_keys($items), 'getItems() returns every key, in order');
        $failures = [];
        foreach ($keys as $i => $key) {
            $item = $items[$key];
            $label = strlen($key) > 20 ? 'long key ' . $i : $key;
            if ($item->getKey() !== $key) {
                $failures[] = "{$label}: getKey() differs";
            }
            if ($i % 3 === 1) {
                if ($item->isHit() || $item->get() !== null) {
                    $failures[] = "{$label}: expected a miss";
                }
            } elseif (!$item->isHit() || $item->get() !== ['i' => $i, 'pad' => str_repeat('p', $i * 20)]) {
                $failures[] = "{$label}: expected a hit with its own value";
            }
        }
        $this->assertSame([], $failures);
        $this->assertSame([], $logger->warnings(), 'no failure was reported');
    }

    public function testGetItemsWithRepeatedKeys(): void
    {
        $pool = $this->dynamoPool(['logger' => $logger = new TestLogger()]);
        $this->assertTrue($pool->save($pool->getItem('a')->set('A')));
        $items = Items::toArray($pool->getItems(['a', 'b', 'a', 'b', 'a']));
        $this->assertSame(['a', 'b'], array_keys($items));
        $this->assertSame('A', $items['a']->get());
        $this->assertFalse($items['b']->isHit());
        $keys = array_merge(array_map(static fn (int $i) => "k{$i}", range(0, 119)), array_map(static fn (int $i) => "k{$i}", range(0, 119)));
        $this->assertCount(120, Items::toArray($pool->getItems($keys)));
        $this->assertSame([], $logger->warnings(), 'repeated keys are not an error');
    }

    public function testCommitOf60DeferredItemsAndDeleteItemsOf60(): void
    {
        $logger = new TestLogger();
        $pool = $this->dynamoPool(['namespace' => 'deferred', 'logger' => $logger]);
        $keys = array_map(static fn (int $i) => "item-{$i}", range(1, 60));
        foreach ($keys as $i => $key) {
            $this->assertTrue($pool->saveDeferred($pool->getItem($key)->set("value {$i}")->expiresAfter($i % 2 ? 3600 : null)));
        }
        $this->assertTrue($pool->commit());
        $reader = $this->dynamoPool(['namespace' => 'deferred']);
        $values = array_map(static fn ($item) => $item->get(), Items::toArray($reader->getItems($keys)));
        $this->assertSame(array_combine($keys, array_map(static fn (int $i) => "value {$i}", range(0, 59))), $values);

        $this->assertTrue($pool->deleteItems($keys), 'deleteItems() of 60 keys');
        $hits = array_filter(Items::toArray($reader->getItems($keys)), static fn ($item) => $item->isHit());
        $this->assertSame([], array_keys($hits), 'items left after deleteItems()');
        $this->assertTrue($pool->deleteItems(['gone', 'gone', 'item-1']), 'deleteItems() with repeated and missing keys');
        $this->assertSame([], $logger->warnings());
    }

    public function testSetMultipleAndGetMultipleOf150(): void
    {
        $cache = new Psr16Cache($this->dynamoPool(['namespace' => 'psr16', 'logger' => $logger = new TestLogger()]));
        $values = [];
        for ($i = 0; $i < 150; $i++) {
            $values["m{$i}"] = $i % 4 === 0 ? null : ($i % 4 === 1 ? $i : ($i % 4 === 2 ? "s{$i}" : [$i, (float) $i]));
        }
        $this->assertTrue($cache->setMultiple($values, 3600));
        $keys = array_merge(array_keys($values), ['missing-1', 'missing-2']);
        $reader = new Psr16Cache($this->dynamoPool(['namespace' => 'psr16']));
        $got = Items::toArray($reader->getMultiple($keys, 'default'));
        $this->assertSame($values + ['missing-1' => 'default', 'missing-2' => 'default'], $got);

        $this->assertTrue($cache->deleteMultiple(array_slice(array_keys($values), 0, 75)));
        $got = Items::toArray($reader->getMultiple(array_keys($values), 'gone'));
        $this->assertSame(array_fill_keys(array_slice(array_keys($values), 0, 75), 'gone') + array_slice($values, 75, null, true), $got);
        $this->assertSame([], $logger->warnings());
    }

    public function testBatchCallsUseBatchRequestsNotOneRequestPerKey(): void
    {
        $proxy = FaultProxy::start($this->endpoint);
        $pool = $this->dynamoPool(['namespace' => 'counted', 'endpoint' => $proxy->endpoint()]);
        $keys = array_map(static fn (int $i) => "c{$i}", range(1, 250));

        foreach (array_slice($keys, 0, 60) as $key) {
            $pool->saveDeferred($pool->getItem($key)->set($key));
        }
        $before = $proxy->operations();
        $this->assertTrue($pool->commit());
        $commit = self::delta($before, $after = $proxy->operations());
        $this->assertTrue(($commit['BatchWriteItem'] ?? 0) >= 3, 'commit() of 60 items: at least 3 BatchWriteItem (25 a request) ' . json_encode($commit));
        $this->assertTrue(array_sum($commit) <= 6, 'commit() of 60 items: at most 6 requests ' . json_encode($commit));

        $items = Items::toArray($pool->getItems($keys));
        $get = self::delta($after, $after2 = $proxy->operations());
        $this->assertCount(60, array_filter($items, static fn ($item) => $item->isHit()));
        $this->assertTrue(($get['BatchGetItem'] ?? 0) >= 3, 'getItems() of 250 keys: at least 3 BatchGetItem (100 a request) ' . json_encode($get));
        $this->assertTrue(array_sum($get) <= 7, 'getItems() of 250 keys: at most 7 requests ' . json_encode($get));

        $this->assertTrue($pool->deleteItems(array_slice($keys, 0, 60)));
        $delete = self::delta($after2, $proxy->operations());
        $this->assertTrue(($delete['BatchWriteItem'] ?? 0) >= 3, 'deleteItems() of 60 keys: at least 3 BatchWriteItem ' . json_encode($delete));
        $this->assertTrue(array_sum($delete) <= 6, 'deleteItems() of 60 keys: at most 6 requests ' . json_encode($delete));
        $proxy->stop();
    }

    /**
     * 100 items of 40 KB (random, so zstd cannot shrink them): one BatchGetItem answer would be
     * about 5 MB, and the emulator, like DynamoDB past its answer limit, returns part of the items
     * and hands the rest back as UnprocessedKeys, which the pool must ask for again.
     */
    public function testGetItemsFollowsUnprocessedKeysOfAnOversizedAnswer(): void
    {
        $proxy = FaultProxy::start($this->endpoint);
        $pool = $this->dynamoPool(['namespace' => 'big', 'endpoint' => $proxy->endpoint(), 'logger' => $logger = new TestLogger()]);
        $values = [];
        for ($i = 0; $i < 100; $i++) {
            $values["big{$i}"] = random_bytes(40_000);
            $pool->saveDeferred($pool->getItem("big{$i}")->set($values["big{$i}"]));
        }
        $this->assertTrue($pool->commit());

        $before = $proxy->operations();
        $items = Items::toArray($pool->getItems(array_keys($values)));
        $get = self::delta($before, $proxy->operations());
        $this->assertSame(array_keys($values), array_keys($items));
        foreach ($values as $key => $value) {
            $this->assertTrue($items[$key]->isHit(), $key);
            $this->assertSame($value, $items[$key]->get(), $key);
        }
        $this->assertGreaterThanOrEqual(2, $get['BatchGetItem'] ?? 0,
            'one chunk of 100 keys, asked again for its unprocessed keys ' . json_encode($get));
        $this->assertSame([], $logger->warnings());
        $proxy->stop();
    }

    /** @return array<string, int> operations in $after that were not in $before */
    private static function delta(array $before, array $after): array
    {
        $out = [];
        foreach ($after as $op => $count) {
            if ($count - ($before[$op] ?? 0) > 0) {
                $out[$op] = $count - ($before[$op] ?? 0);
            }
        }
        return $out;
    }
}
