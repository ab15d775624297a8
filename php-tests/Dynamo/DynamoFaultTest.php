<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\DynamoDbCachePool;
use LambdaCache\Psr16Cache;
use LambdaCache\Dev\DynamoClient;
use LambdaCache\Dev\FaultProxy;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;

/**
 * Backend failures through a fault-injecting proxy (docs/platform.md §3.8, §1): whatever the network or
 * DynamoDB does, PSR calls answer a miss or false, report it, and return within the operation
 * timeout; strict pools throw LambdaCache\CacheException; once the fault is gone, the same pool
 * works again.
 */
final class DynamoFaultTest extends TestCase
{
    use DynamoTableFixture {
        setUp as fixtureSetUp;
        tearDown as fixtureTearDown;
    }
    use FaultChecks;

    private const CONNECT_MS = 200;
    private const ATTEMPT_MS = 250;
    private const OPERATION_MS = 600;
    private const MAX_ATTEMPTS = 3;
    /** Allowed on top of operationTimeoutMs for a whole PSR call. */
    private const MARGIN_MS = 700;

    private ?FaultProxy $proxy = null;

    protected function setUp(): void
    {
        $this->fixtureSetUp();
        $this->proxy = FaultProxy::start($this->endpoint);
    }

    protected function tearDown(): void
    {
        gc_collect_cycles();
        $this->proxy?->stop();
        $this->proxy = null;
        $this->fixtureTearDown();
    }

    /** @param array<string, mixed> $options */
    private function proxiedPool(TestLogger $logger, bool $strict = false, array $options = []): DynamoDbCachePool
    {
        return $this->dynamoPool($options + [
            'namespace' => 'faults',
            'endpoint' => $this->proxy->endpoint(),
            'connectTimeoutMs' => self::CONNECT_MS,
            'attemptTimeoutMs' => self::ATTEMPT_MS,
            'operationTimeoutMs' => self::OPERATION_MS,
            'maxAttempts' => self::MAX_ATTEMPTS,
            'logger' => $logger,
            'strict' => $strict,
        ]);
    }

    private function assertFaultIsContained(string $mode): void
    {
        $logger = new TestLogger();
        $strictLogger = new TestLogger();
        $pool = $this->proxiedPool($logger);
        $strict = $this->proxiedPool($strictLogger, true);
        $this->assertTrue($pool->save($pool->getItem('seed')->set('seeded')), "{$mode}: seeding through the proxy");
        $this->assertSame('seeded', $strict->getItem('seed')->get(), "{$mode}: reading through the proxy");

        $direct = $this->dynamoPool(['namespace' => 'faults', 'logger' => new TestLogger()]);
        $this->proxy->setMode($mode);
        $this->assertSame([], $this->containmentFailures($pool, $direct, $logger, $mode), "mode {$mode}");
        $this->assertSame([], $this->strictFailures($strict, $direct, $mode), "mode {$mode}, strict: true");

        $this->proxy->setMode('pass');
        $this->assertRecovered($pool, $logger, $strict, $mode);
    }

    private function assertRecovered(DynamoDbCachePool $pool, TestLogger $logger, DynamoDbCachePool $strict, string $mode): void
    {
        $logger->reset();
        $this->assertSame('seeded', $pool->getItem('seed')->get(), "{$mode}: back to pass, the same pool reads the value saved before the fault");
        $this->assertTrue($pool->save($pool->getItem('after')->set('works')), "{$mode}: back to pass, the same pool saves");
        $this->assertSame('works', $strict->getItem('after')->get(), "{$mode}: back to pass, the strict pool reads");
        $this->assertSame([], $logger->warnings(), "{$mode}: back to pass, nothing is reported");
    }

    public function testRefusedConnections(): void
    {
        $this->assertFaultIsContained('refuse');
    }

    public function testConnectionsResetWithoutAnAnswer(): void
    {
        $this->assertFaultIsContained('reset');
    }

    public function testAnswersSlowerThanTheAttemptTimeout(): void
    {
        $this->assertFaultIsContained('delay:' . (self::ATTEMPT_MS + 150));
    }

    public function testAnswersSlowerThanTheOperationTimeout(): void
    {
        $this->assertFaultIsContained('delay:' . (self::OPERATION_MS * 5));
    }

    public function testInternalServerErrors(): void
    {
        $this->assertFaultIsContained('http500');
    }

    public function testThrottling(): void
    {
        $this->assertFaultIsContained('throttle');
    }

    public function testAccessDenied(): void
    {
        $this->assertFaultIsContained('denied');
    }

    public function testRetryableErrorsAreTriedExactlyMaxAttemptsTimes(): void
    {
        // Answers of 500 and throttling errors, and connections reset before an answer, are
        // retried until maxAttempts requests were sent; AccessDeniedException is never retried.
        $logger = new TestLogger();
        $pool = $this->proxiedPool($logger);
        $pool->hasItem('warm-up');
        $sent = [];
        foreach (['http500', 'throttle', 'reset', 'denied'] as $mode) {
            $this->proxy->setMode($mode);
            $logger->reset();
            $before = $this->proxy->requestCount();
            $this->assertFalse($pool->getItem('k')->isHit(), "{$mode}: getItem() is a miss");
            $sent[$mode] = $this->proxy->requestCount() - $before;
            $this->assertNotSame([], $logger->warnings(), "{$mode}: the failure is reported");
        }
        $this->assertSame(
            ['http500' => self::MAX_ATTEMPTS, 'throttle' => self::MAX_ATTEMPTS, 'reset' => self::MAX_ATTEMPTS, 'denied' => 1],
            $sent,
            'requests sent by one getItem() with maxAttempts ' . self::MAX_ATTEMPTS
        );
    }

    public function testMissingTable(): void
    {
        $table = DynamoClient::uniqueTableName('lc_missing');
        $this->tablesToDelete[] = $table;
        $logger = new TestLogger();
        $options = ['table' => $table, 'endpoint' => $this->endpoint];
        $pool = $this->proxiedPool($logger, false, $options);
        $strict = $this->proxiedPool(new TestLogger(), true, $options);

        $direct = $this->dynamoPool($options + ['namespace' => 'faults', 'logger' => new TestLogger()]);
        $this->assertSame([], $this->containmentFailures($pool, $direct, $logger, 'missing table'), 'missing table');
        $this->assertSame([], $this->strictFailures($strict, $direct, 'missing table'), 'missing table, strict: true');

        $pool->createTable();
        $logger->reset();
        $this->assertTrue($pool->save($pool->getItem('seed')->set('seeded')), 'once the table exists, the same pool saves');
        $this->assertSame('seeded', $strict->getItem('seed')->get(), 'once the table exists, the strict pool reads');
        $this->assertSame([], $logger->warnings());
    }

    public function testSlowAnswersWithinTheTimeoutsAreHits(): void
    {
        $logger = new TestLogger();
        $pool = $this->proxiedPool($logger);
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')));
        $this->proxy->setMode('delay:' . intdiv(self::ATTEMPT_MS, 3));
        $this->assertSame('v', $pool->getItem('k')->get());
        $this->assertTrue($pool->save($pool->getItem('k2')->set('v2')));
        $this->assertSame(['k' => 'v', 'k2' => 'v2'], array_map(static fn ($i) => $i->get(), Items::toArray($pool->getItems(['k', 'k2']))));
        $this->assertSame([], $logger->warnings());
    }

    public function testConnectionsClosedByTheServerWhileIdleAreRetried(): void
    {
        // Lambda freezes the process between invocations; the server closes the idle connection
        // meanwhile. The next call must succeed on a new connection, silently. Default settings.
        $logger = new TestLogger();
        $pool = $this->dynamoPool(['namespace' => 'idle', 'endpoint' => $this->proxy->endpoint(), 'logger' => $logger]);
        $cache = new Psr16Cache($pool);
        $this->assertTrue($pool->save($pool->getItem('seed')->set('seeded')));
        for ($cycle = 1; $cycle <= 3; $cycle++) {
            foreach (['FIN' => false, 'RST' => true] as $how => $reset) {
                $this->assertSame('seeded', $pool->getItem('seed')->get(), "cycle {$cycle}: before the {$how}");
                $this->proxy->dropConnections($reset);
                usleep(50000);
                $this->assertSame('seeded', $pool->getItem('seed')->get(), "cycle {$cycle}, {$how}: getItem() on a closed connection");
                $this->proxy->dropConnections($reset);
                usleep(50000);
                $this->assertTrue($cache->set("k{$cycle}{$how}", $how), "cycle {$cycle}, {$how}: set() on a closed connection");
                $this->proxy->dropConnections($reset);
                usleep(50000);
                $this->assertSame(['seed' => 'seeded', 'missing' => null], Items::toArray($cache->getMultiple(['seed', 'missing'])), "cycle {$cycle}, {$how}: getMultiple()");
            }
        }
        $this->assertSame([], $logger->warnings(), 'a stale connection was reported instead of retried');
    }
}
