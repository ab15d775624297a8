<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Metrics;

use LambdaCache\Psr16Cache;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\Tests\Tmp\TmpDirectoryFixture;
use LambdaCache\TmpCachePool;
use PHPUnit\Framework\TestCase;

/**
 * The /tmp pool's counters in stats() after known operations, and its CloudWatch EMF lines on
 * stderr: structure, at most one per pool and request, none without activity or while off.
 */
final class TmpMetricsTest extends TestCase
{
    use TmpDirectoryFixture;
    use EmfChecks;

    public function testStatsCountHitsMissesWritesDeletesAndBytes(): void
    {
        $pool = new TmpCachePool('m', directory: $this->dir);
        $before = $pool->stats();
        foreach (['entries', 'bytes_used', 'max_bytes', 'evictions'] as $kept) {
            self::assertArrayHasKey($kept, $before);
        }
        foreach (['hits', 'misses', 'writes', 'deletes', 'clears', 'errors', 'bytes_read', 'bytes_written'] as $k) {
            self::assertSame(0, $before[$k], $k);
        }
        self::assertArrayNotHasKey('write_latency_p50_ms', $before, 'no writes, no percentile');
        self::assertArrayNotHasKey('dynamodb_requests', $before);

        self::assertTrue($pool->save($pool->getItem('a')->set('value a')));   // miss
        self::assertTrue($pool->save($pool->getItem('b')->set([1, 2, 3])));   // miss
        self::assertTrue($pool->getItem('a')->isHit());                        // hit
        self::assertFalse($pool->getItem('c')->isHit());                       // miss
        $hits = array_filter(iterator_to_array($pool->getItems(['a', 'b', 'c'])), fn ($i) => $i->isHit());
        self::assertCount(2, $hits);                                           // 2 hits, 1 miss
        self::assertTrue($pool->deleteItems(['a', 'b']));
        self::assertFalse($pool->hasItem('a'));                                // miss

        $s = $pool->stats();
        self::assertSame(3, $s['hits']);
        self::assertSame(5, $s['misses']);
        self::assertSame(2, $s['writes']);
        self::assertSame(2, $s['deletes']);
        self::assertSame(0, $s['errors']);
        self::assertGreaterThan(0, $s['bytes_written']);
        self::assertGreaterThan(0, $s['bytes_read']);
        self::assertLessThanOrEqual($s['bytes_written'] * 2, $s['bytes_read'], 'a and b read at most twice each');
        self::assertIsFloat($s['write_latency_p50_ms']);
        self::assertGreaterThanOrEqual($s['write_latency_p50_ms'], $s['write_latency_p99_ms']);
        self::assertArrayNotHasKey('read_latency_p50_ms', $s, '/tmp reads are not timed');

        $pool->clear();
        self::assertSame(1, $pool->stats()['clears']);
    }

    public function testErrorsAreCountedByKind(): void
    {
        $logger = new TestLogger();
        $pool = new TmpCachePool('m', directory: $this->dir, allowedClasses: false, logger: $logger);
        self::assertFalse($pool->save($pool->getItem('resource')->set(fopen('php://memory', 'r'))));
        self::assertFalse($pool->save($pool->getItem('object')->set(new \ArrayObject())));
        $cache = new Psr16Cache($pool);
        self::assertFalse($cache->set('big', str_repeat('x', 64 << 20)));

        $s = $pool->stats();
        self::assertSame(1, $s['errors_unsupported']);
        self::assertSame(1, $s['errors_class_not_allowed']);
        self::assertSame(1, $s['errors_too_large']);
        self::assertSame(3, $s['errors']);
        self::assertSame(0, $s['writes']);
        self::assertSame(0, $s['errors_storage']);
    }

    public function testCountersBelongToEachPool(): void
    {
        $one = new TmpCachePool('m', directory: $this->dir);
        $two = new TmpCachePool('m', directory: $this->dir);
        $one->save($one->getItem('k')->set(1));
        self::assertTrue($two->getItem('k')->isHit());
        self::assertSame([1, 0, 1], [$one->stats()['writes'], $one->stats()['hits'], $one->stats()['misses']]);
        self::assertSame([0, 1], [$two->stats()['writes'], $two->stats()['hits']]);
    }

    public function testEmfLineFollowsTheSpecification(): void
    {
        $r = Php::run(<<<'PHP'
            $pool = new LambdaCache\TmpCachePool('emf', directory: $dir, metrics: true);
            $pool->save($pool->getItem('a')->set('x'));
            $pool->getItem('a');
            $pool->getItem('b');
            echo "done\n";
            PHP, ['dir' => $this->dir]);
        self::assertSame("done\n", $r->stdout, $r->describe());
        $lines = self::emfLines($r->stderr);
        self::assertCount(1, $lines, $r->describe());
        $line = $lines[0];
        self::assertEmf($line, 'LambdaCache', 'tmp', 'emf');
        self::assertSame(1, $line['Hits']);
        self::assertSame(2, $line['Misses']);
        self::assertSame(1, $line['Writes']);
        self::assertSame(0, $line['Errors']);
        self::assertGreaterThan(0, $line['BytesWritten']);
        self::assertArrayHasKey('WriteLatencyP99', $line);
        self::assertArrayNotHasKey('DynamoDbRequests', $line);
    }

    public function testEmfIsOffUnlessTheOptionOrTheSettingTurnsItOn(): void
    {
        $code = <<<'PHP'
            $pool = new LambdaCache\TmpCachePool('emf', directory: $dir, metrics: $metrics);
            $pool->save($pool->getItem('a')->set('x'));
            $pool->getItem('a');
            PHP;
        $run = fn (mixed $metrics, array $ini = []) => Php::run($code, ['dir' => $this->dir, 'metrics' => $metrics], [], 60.0, $ini);

        $off = $run(null);
        self::assertSame('', $off->stderr, $off->describe());
        $off = $run(false, ['lambda_cache.metrics_emf' => '1']);
        self::assertSame('', $off->stderr, 'the option beats the setting: ' . $off->describe());

        $on = $run(null, ['lambda_cache.metrics_emf' => '1']);
        self::assertCount(1, self::emfLines($on->stderr), $on->describe());
        $named = $run(null, ['lambda_cache.metrics_emf' => 'MyApp/Cache']);
        self::assertEmf(self::emfLines($named->stderr)[0], 'MyApp/Cache', 'tmp', 'emf');
        $named = $run('Other', ['lambda_cache.metrics_emf' => 'MyApp/Cache']);
        self::assertEmf(self::emfLines($named->stderr)[0], 'Other', 'tmp', 'emf');
    }

    public function testAnInvalidNamespaceIsRefused(): void
    {
        try {
            new TmpCachePool('emf', directory: $this->dir, metrics: 'AWS/Lambda');
            self::fail('accepted');
        } catch (\LambdaCache\InvalidArgumentException $e) {
            self::assertStringContainsString('metrics', $e->getMessage());
        }
    }

    public function testAtMostOneLinePerPoolAndRequestAndNoneWithoutActivity(): void
    {
        $r = Php::run(<<<'PHP'
            $idle = new LambdaCache\TmpCachePool('idle', directory: $dir, metrics: true);
            $busy = new LambdaCache\TmpCachePool('busy', directory: $dir, metrics: true);
            for ($i = 0; $i < 50; $i++) {
                $busy->save($busy->getItem("k$i")->set($i));
                $busy->getItem("k$i");
            }
            $gone = new LambdaCache\TmpCachePool('gone', directory: $dir, metrics: true);
            $gone->getItem('x');
            unset($gone);                // its line now, at destruction
            fwrite(STDERR, "marker\n");
            $busy->getItem('k1');        // still within the request: in the one line at its end
            PHP, ['dir' => $this->dir]);
        self::assertSame(0, $r->exitCode, $r->describe());
        $parts = explode("marker\n", $r->stderr);
        self::assertCount(2, $parts, $r->describe());
        $early = self::emfLines($parts[0]);
        self::assertCount(1, $early, $r->describe());
        self::assertSame(['gone', 1], [$early[0]['Namespace'], $early[0]['Misses']]);
        $end = self::emfLines($parts[1]);
        self::assertCount(1, $end, 'one line for busy, none for idle: ' . $r->describe());
        self::assertSame(['busy', 51, 50, 50], [$end[0]['Namespace'], $end[0]['Hits'], $end[0]['Misses'], $end[0]['Writes']]);
    }

    public function testFlushMetricsWritesTheLineOfEachInvocationOfALongRequest(): void
    {
        $r = Php::run(<<<'PHP'
            $pool = new LambdaCache\TmpCachePool('loop', directory: $dir, metrics: true);
            foreach ([1, 2, 3] as $n) {
                for ($i = 0; $i < $n; $i++) {
                    $pool->getItem("k$i");
                }
                $pool->flushMetrics();
                $pool->flushMetrics(); // nothing new: no line
                fwrite(STDERR, "end of invocation $n\n");
            }
            PHP, ['dir' => $this->dir]);
        self::assertSame(0, $r->exitCode, $r->describe());
        $parts = explode("\n", trim(preg_replace('/^end of invocation \d$/m', '|', $r->stderr)));
        $lines = self::emfLines($r->stderr);
        self::assertSame([1, 2, 3], array_column($lines, 'Misses'), $r->describe());
        self::assertSame(['{', '|', '{', '|', '{', '|'], array_map(static fn (string $l) => $l[0], $parts), 'one line per invocation, none at the end');
    }

    public function testFlushMetricsWritesNothingWhileOff(): void
    {
        $r = Php::run(<<<'PHP'
            $pool = new LambdaCache\TmpCachePool('loop', directory: $dir);
            $pool->getItem('a');
            $pool->flushMetrics();
            PHP, ['dir' => $this->dir]);
        self::assertSame(0, $r->exitCode, $r->describe());
        self::assertSame('', $r->stderr);
    }
}
