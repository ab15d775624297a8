<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Dev\DynamoClient;
use LambdaCache\Dev\FaultProxy;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;

/**
 * The table and item layout, read back raw with a separate client (docs/platform.md §4): a String
 * partition key, a Number TTL in epoch seconds when the item expires, a Binary value compressed
 * above compressThreshold; attribute names configurable; createTable() idempotent.
 */
final class DynamoStoreLayoutTest extends TestCase
{
    use DynamoTableFixture;

    private const KB = 1024;

    public function testCreateTableMakesAStringPartitionKeyOnDemandTableAndCanBeRepeated(): void
    {
        $table = $this->client()->describeTable($this->table);
        $this->assertNotNull($table, 'createTable() created the table');
        $this->assertSame('ACTIVE', $table['TableStatus']);
        $this->assertSame([['AttributeName' => 'id', 'KeyType' => 'HASH']], $table['KeySchema']);
        $this->assertSame([['AttributeName' => 'id', 'AttributeType' => 'S']], $table['AttributeDefinitions']);
        $this->assertSame('PAY_PER_REQUEST', $table['BillingModeSummary']['BillingMode'] ?? null, 'on-demand billing');

        $pool = $this->dynamoPool(['logger' => $logger = new TestLogger()]);
        $this->assertTrue($pool->save($pool->getItem('k')->set('kept')));
        $pool->createTable();
        $this->dynamoPool()->createTable();
        $this->assertSame('kept', $this->dynamoPool()->getItem('k')->get(), 'createTable() on an existing table keeps its items');
        $this->assertSame([], $logger->warnings());
    }

    public function testCreateTableReturnsOnceTheTableIsActive(): void
    {
        // DynamoDB keeps a new table CREATING for seconds (the emulator for a moment): calls on it
        // fail until it is ACTIVE, UpdateTimeToLive included. The only way to know is DescribeTable.
        $proxy = FaultProxy::start($this->endpoint);
        $table = DynamoClient::uniqueTableName();
        $this->tablesToDelete[] = $table;
        $pool = $this->dynamoPool(['table' => $table, 'endpoint' => $proxy->endpoint(), 'logger' => $logger = new TestLogger()]);
        $pool->createTable();
        $status = $this->client()->describeTable($table)['TableStatus'] ?? 'missing';
        $ops = $proxy->operations();
        $this->assertSame('ACTIVE', $status, 'createTable() returned before the table was ACTIVE');
        $this->assertArrayHasKey('DescribeTable', $ops, 'createTable() does not wait for the table to be ACTIVE; it sent ' . json_encode($ops));
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')));
        $this->assertSame([], $logger->warnings());
        $proxy->stop();
    }

    public function testItemLayout(): void
    {
        $pool = $this->dynamoPool(['namespace' => 'layoutns', 'logger' => $logger = new TestLogger()]);

        $now = time();
        $expiring = $this->saveAndFind($pool, 'plain-key', 'a small value marker', 3600);
        $this->assertSame(['id', 'ttl', 'value'], self::attributeNames($expiring));
        $this->assertSame(['S'], array_keys($expiring['id']));
        $this->assertTrue(str_contains($expiring['id']['S'], 'layoutns') && str_contains($expiring['id']['S'], 'plain-key'), 'a short key is readable in the partition key with its namespace: ' . $expiring['id']['S']);
        $this->assertSame(['N'], array_keys($expiring['ttl']));
        $this->assertMatchesRegularExpression('/^\d+$/', $expiring['ttl']['N'], 'ttl is whole epoch seconds');
        $ttl = (int) $expiring['ttl']['N'];
        $this->assertTrue($ttl >= $now + 3599 && $ttl <= time() + 3601, "ttl is the expiry in epoch seconds: {$ttl}, now {$now}");
        $this->assertSame(['B'], array_keys($expiring['value']));
        $bytes = base64_decode($expiring['value']['B'], true);
        $this->assertTrue(is_string($bytes) && str_contains($bytes, 'a small value marker'), 'a small string value is stored uncompressed');

        $forever = $this->saveAndFind($pool, 'forever-key', 'no expiry', null);
        $this->assertSame(['id', 'value'], self::attributeNames($forever), 'an item without expiry has no ttl attribute (DynamoDB would expire ttl 0 at once)');

        $long = $this->saveAndFind($pool, str_repeat('L', 5000), 'long key', null);
        $this->assertTrue(strlen($long['id']['S']) <= 2048, 'a 5000-char key is hashed into a partition key of at most 2048 bytes, got ' . strlen($long['id']['S']));

        $compressible = str_repeat('compress me ', intdiv(100 * self::KB, 12));
        $compressed = $this->saveAndFind($pool, 'compressible', $compressible, null);
        $size = strlen((string) base64_decode($compressed['value']['B']));
        $this->assertTrue($size < strlen($compressible) / 4, "a compressible {$this->kb(strlen($compressible))} value is stored compressed, got {$this->kb($size)}");
        $this->assertSame($compressible, $this->dynamoPool(['namespace' => 'layoutns'])->getItem('compressible')->get());
        $this->assertSame([], $logger->warnings());
    }

    public function testCompressThresholdIsHonoured(): void
    {
        $value = str_repeat('abcdefgh', 8 * self::KB);
        $never = $this->dynamoPool(['namespace' => 'never', 'compressThreshold' => 100 * self::KB]);
        $raw = $this->saveAndFind($never, 'k', $value, null);
        $this->assertTrue(strlen((string) base64_decode($raw['value']['B'])) >= strlen($value), 'a value under compressThreshold is stored as is');
        $this->assertSame($value, $this->dynamoPool(['namespace' => 'never'])->getItem('k')->get());

        $always = $this->dynamoPool(['namespace' => 'always', 'compressThreshold' => 1 * self::KB]);
        $raw = $this->saveAndFind($always, 'k', $value, null);
        $this->assertTrue(strlen((string) base64_decode($raw['value']['B'])) < strlen($value) / 4, 'a value over compressThreshold is compressed');
        $this->assertSame($value, $this->dynamoPool(['namespace' => 'always', 'compressThreshold' => 100 * self::KB])->getItem('k')->get());
    }

    public function testAttributeNamesAreConfigurable(): void
    {
        $names = ['keyAttribute' => 'pk', 'ttlAttribute' => 'expires_at', 'valueAttribute' => 'payload'];
        $table = $this->createTestTable($names);
        $described = $this->client()->describeTable($table);
        $this->assertSame([['AttributeName' => 'pk', 'KeyType' => 'HASH']], $described['KeySchema']);
        $this->assertSame([['AttributeName' => 'pk', 'AttributeType' => 'S']], $described['AttributeDefinitions']);

        $pool = $this->dynamoPool(['table' => $table, 'namespace' => 'names', 'logger' => $logger = new TestLogger()] + $names);
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')->expiresAfter(600)));
        $this->assertTrue($pool->save($pool->getItem('forever')->set('f')));
        $reader = $this->dynamoPool(['table' => $table, 'namespace' => 'names'] + $names);
        $this->assertSame('v', $reader->getItem('k')->get());
        $this->assertSame(['k' => 'v', 'forever' => 'f'], array_map(static fn ($item) => $item->get(), Items::toArray($reader->getItems(['k', 'forever']))));
        $this->assertTrue($reader->deleteItem('forever'));
        $this->assertFalse($reader->hasItem('forever'));
        $this->assertSame([], $logger->warnings());

        $raw = $this->rawValueItems($table, 'payload');
        $this->assertCount(1, $raw);
        $this->assertSame(['expires_at', 'payload', 'pk'], self::attributeNames($raw[0]));
        $this->assertSame(['N'], array_keys($raw[0]['expires_at']));
        $this->assertSame(['S'], array_keys($raw[0]['pk']));
    }

    public function testConsistentReadPoolsWork(): void
    {
        $pool = $this->dynamoPool(['consistentRead' => true, 'logger' => $logger = new TestLogger()]);
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')));
        $this->assertSame('v', $pool->getItem('k')->get());
        $this->assertSame('v', Items::toArray($pool->getItems(['k', 'other']))['k']->get());
        $this->assertSame([], $logger->warnings());
    }

    /**
     * Saves $key and returns the one raw item that appeared (or changed) in the table.
     *
     * @return array<string, array<string, mixed>>
     */
    private function saveAndFind($pool, string $key, mixed $value, ?int $ttl): array
    {
        $before = [];
        foreach ($this->rawValueItems() as $item) {
            $before[json_encode($item['id'] ?? $item)] = json_encode($item);
        }
        $this->assertTrue($pool->save($pool->getItem($key)->set($value)->expiresAfter($ttl)), 'save ' . substr($key, 0, 40));
        $new = [];
        foreach ($this->rawValueItems() as $item) {
            if (($before[json_encode($item['id'] ?? $item)] ?? null) !== json_encode($item)) {
                $new[] = $item;
            }
        }
        $this->assertCount(1, $new, 'one item written for ' . substr($key, 0, 40));
        return $new[0];
    }

    /** @return list<string> sorted */
    private static function attributeNames(array $item): array
    {
        $names = array_map('strval', array_keys($item));
        sort($names);
        return $names;
    }

    private function kb(int $bytes): string
    {
        return round($bytes / self::KB, 1) . ' KB';
    }
}
