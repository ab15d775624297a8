<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\TmpCachePool;
use PHPUnit\Framework\TestCase;

/**
 * The /tmp store's size budget: eviction keeps it within maxBytes, prefers expired entries, then
 * the least recently used; prune() removes expired entries.
 *
 * Values are random (incompressible) and 12,000 bytes: about three LMDB pages however a store
 * counts its bytes (payload or pages), so a 1 MiB budget holds roughly 80 of them.
 */
final class TmpStoreBudgetTest extends TestCase
{
    use TmpDirectoryFixture;

    private const MIB = 1048576;
    private const VALUE_BYTES = 12000;

    private function budgetPool(TestLogger $logger, string $namespace = 'budget'): TmpCachePool
    {
        return new TmpCachePool(namespace: $namespace, directory: $this->dir, maxBytes: self::MIB, logger: $logger);
    }

    private static function value(string $key): string
    {
        return $key . ':' . random_bytes(self::VALUE_BYTES - strlen($key) - 1);
    }

    /** @return array<string, bool> key => hit */
    private static function hits(TmpCachePool $pool, array $keys): array
    {
        $out = [];
        foreach ($keys as $key) {
            $item = $pool->getItem($key);
            $out[$key] = $item->isHit();
            if ($item->isHit()) {
                $v = $item->get();
                if (!is_string($v) || strlen($v) !== self::VALUE_BYTES || !str_starts_with($v, $key . ':')) {
                    throw new \UnexpectedValueException("{$key}: wrong value after eviction");
                }
            }
        }
        return $out;
    }

    public function testManyWritesIntoASmallBudgetKeepWorkingAndStayWithinIt(): void
    {
        $logger = new TestLogger();
        $pool = $this->budgetPool($logger);
        $keys = [];
        for ($i = 0; $i < 500; $i++) {
            $keys[] = $key = "w{$i}";
            $this->assertTrue($pool->save($pool->getItem($key)->set(self::value($key))), "save {$key}");
            if ($i % 50 === 49) {
                $stats = $pool->stats();
                $this->assertSame(self::MIB, $stats['max_bytes']);
                $this->assertTrue($stats['bytes_used'] <= $stats['max_bytes'], "after {$i} writes: bytes_used {$stats['bytes_used']} > max_bytes");
            }
        }
        $hits = self::hits($this->budgetPool($logger), $keys);
        $this->assertTrue($hits['w499'] && $hits['w498'] && $hits['w497'], 'the latest writes were evicted');
        $count = count(array_filter($hits));
        $this->assertTrue($count > 20 && $count < 100, "{$count} entries survive in 1 MiB");
        $this->assertSame($count, $pool->stats()['entries']);
        clearstatcache();
        $size = filesize("{$this->dir}/data.mdb");
        $this->assertTrue($size <= 5 * self::MIB, "data.mdb grew to {$size} bytes for a 1 MiB budget");
        $this->assertSame([], $logger->records, 'eviction is not a failure');
    }

    public function testRecentlyReadEntriesSurviveEvictionBetterThanUntouchedOnes(): void
    {
        $logger = new TestLogger();
        $pool = $this->budgetPool($logger);
        $hot = $cold = [];
        for ($i = 0; $i < 50; $i++) {
            $key = "a{$i}";
            if ($i < 10) {
                $hot[] = $key;
            } else {
                $cold[] = $key;
            }
            $this->assertTrue($pool->save($pool->getItem($key)->set(self::value($key))));
        }
        for ($batch = 0; $batch < 20; $batch++) {
            foreach ($hot as $key) {
                $pool->getItem($key)->get();
            }
            for ($j = 0; $j < 10; $j++) {
                $key = "b{$batch}-{$j}";
                $this->assertTrue($pool->save($pool->getItem($key)->set(self::value($key))));
            }
        }
        $reader = $this->budgetPool($logger);
        $hotSurvivors = count(array_filter(self::hits($reader, $hot)));
        $coldSurvivors = count(array_filter(self::hits($reader, $cold)));
        $this->assertTrue($hotSurvivors >= 8, "only {$hotSurvivors} of 10 frequently read entries survived");
        $this->assertTrue($hotSurvivors / 10 > $coldSurvivors / 40, "hot {$hotSurvivors}/10, cold {$coldSurvivors}/40");
        $this->assertTrue($pool->stats()['bytes_used'] <= self::MIB);
    }

    public function testExpiredEntriesAreEvictedBeforeLiveOnes(): void
    {
        $logger = new TestLogger();
        $pool = $this->budgetPool($logger);
        $live = $new = [];
        for ($i = 0; $i < 20; $i++) {
            $live[] = $key = "live{$i}";
            $this->assertTrue($pool->save($pool->getItem($key)->set(self::value($key))));
        }
        // 50 entries of 12 KB stay under the 80% mark where eviction starts.
        for ($i = 0; $i < 30; $i++) {
            $key = "expiring{$i}";
            $this->assertTrue($pool->save($pool->getItem($key)->set(self::value($key))->expiresAfter(1)));
        }
        usleep(2_200_000);
        // 25 more pass it: eviction must take the 30 expired entries, none of the live ones.
        for ($i = 0; $i < 25; $i++) {
            $new[] = $key = "new{$i}";
            $this->assertTrue($pool->save($pool->getItem($key)->set(self::value($key))));
        }
        $hits = self::hits($this->budgetPool($logger), array_merge($live, $new));
        $this->assertSame(array_fill_keys(array_merge($live, $new), true), $hits, 'live entries were evicted while expired ones were there');
        $this->assertTrue($pool->stats()['evictions'] >= 30, 'the budget was passed, so the expired entries were evicted');
        $this->assertTrue($pool->stats()['bytes_used'] <= self::MIB);
        $this->assertSame([], $logger->records);
    }

    public function testPruneRemovesExpiredEntries(): void
    {
        $pool = new TmpCachePool(namespace: 'prune', directory: $this->dir);
        $other = new TmpCachePool(namespace: 'prune-other', directory: $this->dir);
        for ($i = 0; $i < 20; $i++) {
            $this->assertTrue($pool->save($pool->getItem("short{$i}")->set(str_repeat('s', 2000))->expiresAfter(1)));
        }
        for ($i = 0; $i < 5; $i++) {
            $this->assertTrue($pool->save($pool->getItem("long{$i}")->set("long{$i}")));
        }
        $this->assertTrue($other->save($other->getItem('kept')->set('other namespace')));
        $before = $pool->stats();
        $this->assertTrue($before['entries'] >= 25, "entries before prune: {$before['entries']}");

        usleep(2_200_000);
        $this->assertTrue($pool->prune());
        $after = $pool->stats();
        $this->assertTrue($after['entries'] <= $before['entries'] - 20, "entries: {$before['entries']} before prune, {$after['entries']} after");
        $this->assertTrue($after['bytes_used'] < $before['bytes_used'] - 20 * 2000 / 2, 'bytes_used did not drop');
        for ($i = 0; $i < 5; $i++) {
            $this->assertSame("long{$i}", $pool->getItem("long{$i}")->get());
        }
        $this->assertSame('other namespace', $other->getItem('kept')->get());
        $this->assertTrue($pool->prune(), 'prune() with nothing to prune');
    }

    public function testConcurrentWritersOnASmallBudgetDoNotFailSaves(): void
    {
        // Issue #13: with 4 writers, 1 MiB failed 11,720 saves in 10 s with MDB_MAP_FULL, raised
        // by the eviction itself (other processes' read snapshots pin the pages it freed).
        $code = <<<'PHP'
            $logger = new LambdaCache\Tests\Support\TestLogger();
            $pool = new LambdaCache\TmpCachePool(namespace: "w{$worker}", directory: $dir, maxBytes: 1048576, logger: $logger);
            for ($i = 0; $i < 3000; $i++) {
                $pool->save($pool->getItem("k{$i}")->set(random_bytes(1000)));
            }
            echo 'failed=', count($logger->records), ' ', $logger->records[0]['message'] ?? '';
            PHP;
        $children = [];
        for ($w = 0; $w < 4; $w++) {
            $children[$w] = Php::start($code, ['dir' => $this->dir, 'worker' => $w]);
        }
        foreach ($children as $w => $child) {
            $r = $child->wait(120.0);
            $this->assertSame(0, $r->exitCode, "worker {$w}\n" . $r->describe());
            $this->assertSame('failed=0 ', $r->stdout, "worker {$w}\n" . $r->describe());
        }
    }
}
