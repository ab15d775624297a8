<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\CacheException;
use LambdaCache\Dev\DynamoClient;
use LambdaCache\Dev\FaultProxy;
use PHPUnit\Framework\TestCase;

/**
 * createTable(wait: false) and describeTable(), which `lambda-cache create-table` and `stats` use
 * to show progress and the table: what they send, what they answer.
 */
final class DynamoTableAdminTest extends TestCase
{
    use DynamoTableFixture {
        tearDown as fixtureTearDown;
    }

    private ?FaultProxy $proxy = null;

    protected function tearDown(): void
    {
        $this->proxy?->stop();
        $this->proxy = null;
        $this->fixtureTearDown();
    }

    public function testCreateTableWithoutWaitSendsOnlyCreateTable(): void
    {
        $table = DynamoClient::uniqueTableName('lc_admin');
        $this->tablesToDelete[] = $table;
        $this->proxy = FaultProxy::start($this->endpoint);
        $pool = $this->dynamoPool(['table' => $table, 'endpoint' => $this->proxy->endpoint()]);

        $this->assertSame("created table {$table}", $pool->createTable(false));
        $this->assertSame(['CreateTable' => 1], $this->proxy->operations(), 'no wait, no TTL');
        $this->assertNotNull($this->client()->describeTable($table), 'the table was asked for');
        $this->assertSame("table {$table} exists", $pool->createTable(wait: false));
        $this->assertSame(['CreateTable' => 2], $this->proxy->operations());

        $this->client()->waitForTable($table, 10.0);
        $finished = $pool->createTable();
        $this->assertMatchesRegularExpression("/^table {$table} exists; TTL (on ttl|not enabled \\(.+\\))$/", $finished);
        $this->assertSame(1, $this->proxy->operations()['UpdateTimeToLive'] ?? 0, 'waiting, it asks for TTL');
    }

    public function testDescribeTableTellsStatusSizeAndBillingMode(): void
    {
        $pool = $this->dynamoPool(['namespace' => 'admin']);
        $this->assertTrue($pool->save($pool->getItem('k')->set(str_repeat('x', 100))));
        $info = $pool->describeTable();
        $this->assertSame(['status', 'item_count', 'size_bytes', 'billing_mode'], array_keys($info));
        $this->assertSame(['ACTIVE', 'PAY_PER_REQUEST'], [$info['status'], $info['billing_mode']]);
        $raw = $this->client()->describeTable($this->table);
        $this->assertSame([$raw['ItemCount'], $raw['TableSizeBytes']], [$info['item_count'], $info['size_bytes']]);

        $missing = DynamoClient::uniqueTableName('lc_admin_missing');
        try {
            $this->dynamoPool(['table' => $missing])->describeTable();
            $this->fail('describeTable() of a missing table throws');
        } catch (CacheException $e) {
            $this->assertStringContainsString("DynamoDB DescribeTable on {$missing}: table {$missing} does not exist", $e->getMessage());
            $this->assertSame(7, $e->getPrevious()?->getCode());
        }
    }
}
