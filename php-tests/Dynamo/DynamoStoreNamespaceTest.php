<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Psr16Cache;
use LambdaCache\Dev\FaultProxy;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;

/**
 * Namespaces sharing one table (docs/platform.md §3.9): independent, and clear() bumps a namespace
 * version instead of scanning or deleting items.
 */
final class DynamoStoreNamespaceTest extends TestCase
{
    use DynamoTableFixture;

    /** @return array<string, mixed> key => value (null for misses) */
    private static function values($pool, array $keys): array
    {
        $out = [];
        foreach ($pool->getItems($keys) as $key => $item) {
            $out[$key] = $item->isHit() ? $item->get() : null;
        }
        return $out;
    }

    public function testTwoNamespacesOnOneTableAreIndependent(): void
    {
        $logger = new TestLogger();
        $alpha = new Psr16Cache($this->dynamoPool(['namespace' => 'alpha', 'logger' => $logger]));
        $beta = new Psr16Cache($this->dynamoPool(['namespace' => 'beta', 'logger' => $logger]));
        $keys = array_map(static fn (int $i) => "shared-{$i}", range(1, 30));
        $this->assertTrue($alpha->setMultiple(array_fill_keys($keys, 'in alpha')));
        $this->assertTrue($beta->setMultiple(array_fill_keys($keys, 'in beta')));
        $this->assertTrue($alpha->set('only-alpha', 1));

        $this->assertSame(array_fill_keys($keys, 'in alpha'), Items::toArray($alpha->getMultiple($keys)));
        $this->assertSame(array_fill_keys($keys, 'in beta'), Items::toArray($beta->getMultiple($keys)));
        $this->assertFalse($beta->has('only-alpha'));

        $this->assertTrue($alpha->clear());
        $this->assertSame(array_fill_keys($keys, 'x'), Items::toArray($alpha->getMultiple($keys, 'x')), 'alpha after its clear()');
        $this->assertFalse($alpha->has('only-alpha'));
        $this->assertSame(array_fill_keys($keys, 'in beta'), Items::toArray($beta->getMultiple($keys)), 'beta after the clear() of alpha');
        $freshBeta = $this->dynamoPool(['namespace' => 'beta']);
        $this->assertSame(array_fill_keys($keys, 'in beta'), self::values($freshBeta, $keys), 'beta from a new pool');

        // Clear then write: the namespace works at once, in this pool and in new ones.
        $this->assertTrue($alpha->set('shared-1', 'after clear'));
        $this->assertSame('after clear', $alpha->get('shared-1'));
        $freshAlpha = $this->dynamoPool(['namespace' => 'alpha']);
        $this->assertSame(['shared-1' => 'after clear', 'shared-2' => null, 'only-alpha' => null], self::values($freshAlpha, ['shared-1', 'shared-2', 'only-alpha']));
        $this->assertSame([], $logger->warnings());
    }

    public function testClearThenWriteAgainAndAgain(): void
    {
        $pool = $this->dynamoPool(['namespace' => 'cycles', 'logger' => $logger = new TestLogger()]);
        $other = $this->dynamoPool(['namespace' => 'cycles']);
        for ($cycle = 1; $cycle <= 5; $cycle++) {
            $this->assertTrue($pool->save($pool->getItem('k')->set($cycle)), "cycle {$cycle}: save");
            $this->assertTrue($pool->save($pool->getItem("only-{$cycle}")->set($cycle)), "cycle {$cycle}: save");
            $this->assertSame($cycle, $other->getItem('k')->get(), "cycle {$cycle}: another pool reads the new value");
            $this->assertTrue($other->clear(), "cycle {$cycle}: clear");
            $this->assertFalse($pool->hasItem('k'), "cycle {$cycle}: cleared");
            $this->assertFalse($pool->hasItem("only-{$cycle}"), "cycle {$cycle}: cleared");
        }
        $this->assertTrue($pool->save($pool->getItem('k')->set('last')));
        $this->assertSame('last', $this->dynamoPool(['namespace' => 'cycles'])->getItem('k')->get());
        $this->assertSame([], $logger->warnings());
    }

    public function testClearInAnotherProcessIsSeenByPoolsOfThisOne(): void
    {
        $alpha = $this->dynamoPool(['namespace' => 'alpha']);
        $beta = $this->dynamoPool(['namespace' => 'beta']);
        $this->assertTrue($alpha->save($alpha->getItem('k')->set('A')));
        $this->assertTrue($beta->save($beta->getItem('k')->set('B')));
        $this->assertSame('A', $alpha->getItem('k')->get());

        $r = Php::run(
            '$p = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: "alpha");'
            . 'echo json_encode([$p->getItem("k")->get(), $p->clear(), $p->hasItem("k")]);',
            ['table' => $this->table, 'endpoint' => $this->endpoint]
        );
        $this->assertSame('["A",true,false]', $r->stdout, $r->describe());

        // Another process may trust the namespace version it read for a moment (the store's
        // VERSION_TTL, 1 s) instead of reading it on every call; after that, the clear() holds.
        usleep(1_300_000);
        $this->assertFalse($alpha->hasItem('k'), 'a pool made before the clear() in another process still returns the item after 1.3 s');
        $this->assertFalse($this->dynamoPool(['namespace' => 'alpha'])->hasItem('k'), 'a new pool returns the item cleared in another process');
        $this->assertSame('B', $beta->getItem('k')->get());
    }

    public function testClearNeitherScansNorDeletesItems(): void
    {
        $proxy = FaultProxy::start($this->endpoint);
        $pool = $this->dynamoPool(['namespace' => 'no-scan', 'endpoint' => $proxy->endpoint()]);
        $keep = $this->dynamoPool(['namespace' => 'kept']);
        $this->assertTrue($keep->save($keep->getItem('k')->set('kept')));
        foreach (range(1, 40) as $i) {
            $pool->saveDeferred($pool->getItem("k{$i}")->set($i));
        }
        $this->assertTrue($pool->commit());
        $stored = count($this->rawValueItems());

        $before = $proxy->operations();
        $this->assertTrue($pool->clear());
        $after = $proxy->operations();
        $ops = [];
        foreach ($after as $op => $count) {
            if ($count > ($before[$op] ?? 0)) {
                $ops[$op] = $count - ($before[$op] ?? 0);
            }
        }
        foreach (['Scan', 'Query', 'BatchWriteItem', 'DeleteItem', 'DeleteTable', 'CreateTable'] as $op) {
            $this->assertArrayNotHasKey($op, $ops, 'clear() sent ' . json_encode($ops));
        }
        $this->assertTrue(array_sum($ops) >= 1 && array_sum($ops) <= 2, 'clear() takes one or two requests, sent ' . json_encode($ops));
        $this->assertSame($stored, count($this->rawValueItems()), 'clear() leaves the items in the table (they are unreachable, and expire by TTL)');
        $this->assertFalse($pool->hasItem('k1'));
        $this->assertSame('kept', $this->dynamoPool(['namespace' => 'kept'])->getItem('k')->get());
        $proxy->stop();
    }
}
