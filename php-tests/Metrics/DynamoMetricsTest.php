<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Metrics;

use LambdaCache\Tests\Dynamo\DynamoTableFixture;
use LambdaCache\Dev\FaultProxy;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;

/**
 * The DynamoDB pool's counters against the emulator: hits, misses, writes and deletes exactly,
 * requests, consumed capacity and HTTP bytes as DynamoDB answered them, retries and throttles
 * through the fault proxy; and its EMF line.
 */
final class DynamoMetricsTest extends TestCase
{
    use DynamoTableFixture;
    use EmfChecks;

    private const DYNAMODB_KEYS = ['dynamodb_requests', 'dynamodb_retries', 'dynamodb_throttles',
        'dynamodb_consumed_capacity', 'dynamodb_bytes_sent', 'dynamodb_bytes_received'];

    public function testStatsCountOperationsRequestsAndConsumedCapacity(): void
    {
        $pool = $this->dynamoPool(['namespace' => 'm']);
        $before = $pool->stats();
        foreach (['runtimes_created', 'clients_created', ...self::DYNAMODB_KEYS] as $k) {
            self::assertArrayHasKey($k, $before);
        }
        self::assertSame(0, $before['dynamodb_requests']);
        self::assertSame(0.0, $before['dynamodb_consumed_capacity']);

        self::assertTrue($pool->save($pool->getItem('a')->set('value a')));   // miss
        self::assertTrue($pool->save($pool->getItem('b')->set([1, 2, 3])));   // miss
        self::assertTrue($pool->getItem('a')->isHit());                        // hit
        self::assertFalse($pool->getItem('c')->isHit());                       // miss
        $hits = array_filter(iterator_to_array($pool->getItems(['a', 'b', 'c'])), fn ($i) => $i->isHit());
        self::assertCount(2, $hits);                                           // 2 hits, 1 miss
        self::assertTrue($pool->deleteItems(['a', 'b']));
        self::assertFalse($pool->hasItem('a'));                                // miss

        $s = $pool->stats();
        self::assertSame([3, 5, 2, 2, 0], [$s['hits'], $s['misses'], $s['writes'], $s['deletes'], $s['errors']]);
        // At least one request per call above (9), none retried.
        self::assertGreaterThanOrEqual(9, $s['dynamodb_requests']);
        self::assertSame(0, $s['dynamodb_retries']);
        self::assertSame(0, $s['dynamodb_throttles']);
        self::assertIsFloat($s['dynamodb_consumed_capacity']);
        self::assertGreaterThan(0.0, $s['dynamodb_consumed_capacity']);
        self::assertGreaterThan($s['bytes_written'], $s['dynamodb_bytes_sent'], 'the entries travel in the request bodies');
        self::assertGreaterThan(0, $s['dynamodb_bytes_received']);
        self::assertGreaterThan(0.0, $s['read_latency_p50_ms']);
        self::assertGreaterThanOrEqual($s['read_latency_p50_ms'], $s['read_latency_p99_ms']);
        self::assertGreaterThan(0.0, $s['write_latency_p99_ms']);
    }

    public function testThrottlingIsCountedWithItsRetries(): void
    {
        $proxy = FaultProxy::start($this->endpoint);
        try {
            $pool = $this->dynamoPool(['namespace' => 'm', 'endpoint' => $proxy->endpoint(), 'maxAttempts' => 3,
                'logger' => new TestLogger()]);
            self::assertTrue($pool->save($pool->getItem('seed')->set('seeded')));
            $before = $pool->stats();
            $sentBefore = $proxy->requestCount();
            $proxy->setMode('throttle');
            self::assertFalse($pool->getItem('seed')->isHit(), 'a throttled read is a miss');
            $after = $pool->stats();
            $sent = $proxy->requestCount() - $sentBefore;
        } finally {
            $proxy->stop();
        }
        $d = static fn (string $k) => $after[$k] - $before[$k];
        // Each request sent was answered with throttling; each call tried 3 times.
        self::assertSame($sent, $d('dynamodb_requests'));
        self::assertSame($sent, $d('dynamodb_throttles'));
        self::assertGreaterThanOrEqual(3, $sent);
        self::assertSame(0, $sent % 3);
        self::assertSame($sent / 3 * 2, $d('dynamodb_retries'));
        self::assertSame(1, $d('errors_storage'));
        self::assertSame([0, 1], [$d('hits'), $d('misses')]);
    }

    public function testEmfLineCarriesTheDynamoDbCounters(): void
    {
        $r = Php::run(<<<'PHP'
            $pool = new LambdaCache\DynamoDbCachePool($table, namespace: 'emf', endpoint: $endpoint, metrics: 'Test/Cache');
            $pool->save($pool->getItem('a')->set('x'));
            $pool->getItem('a');
            echo "done\n";
            PHP, ['table' => $this->table, 'endpoint' => $this->endpoint]);
        self::assertSame("done\n", $r->stdout, $r->describe());
        $lines = self::emfLines($r->stderr);
        self::assertCount(1, $lines, $r->describe());
        $line = $lines[0];
        self::assertEmf($line, 'Test/Cache', 'dynamodb', 'emf');
        self::assertSame([1, 1, 1], [$line['Hits'], $line['Misses'], $line['Writes']]);
        self::assertGreaterThanOrEqual(3, $line['DynamoDbRequests']);
        self::assertGreaterThan(0, $line['DynamoDbConsumedCapacity']);
        self::assertGreaterThan(0, $line['DynamoDbBytesSent']);
        self::assertGreaterThan(0, $line['ReadLatencyP50']);
    }
}
