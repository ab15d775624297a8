<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\DynamoDbCachePool;
use LambdaCache\Tests\Conformance\PoolConformanceTestCase;
use LambdaCache\Tests\Conformance\PoolIntegrityTests;
use Psr\Cache\CacheItemPoolInterface;

/** The PSR-6 conformance suite against the DynamoDB store (a fresh table per test). */
final class DynamoPoolConformanceTest extends PoolConformanceTestCase
{
    use DynamoTableFixture;
    use PoolIntegrityTests;

    protected function childPool(): array
    {
        return ['$pool = new LambdaCache\\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: $ns, allowedClasses: true);' . "\n", ['table' => $this->table, 'endpoint' => $this->endpoint]];
    }

    protected function keyedPool(string $namespace, ?string $integrityKey, ?object $logger = null): CacheItemPoolInterface
    {
        return $this->dynamoPool(['namespace' => $namespace, 'logger' => $logger, 'integrityKey' => $integrityKey]);
    }

    /** Rewrites the items with the change (partition key and value), as anyone with PutItem could. */
    protected function changeStoredBytes(string $search, string $replace): int
    {
        $n = 0;
        foreach ($this->rawValueItems() as $item) {
            $id = $item['id']['S'];
            $value = base64_decode($item['value']['B'], true);
            if (!str_contains($id, $search) && !str_contains($value, $search)) {
                continue;
            }
            $item['id']['S'] = str_replace($search, $replace, $id);
            $item['value']['B'] = base64_encode(str_replace($search, $replace, $value));
            $this->client()->putItem($this->table, $item);
            ++$n;
        }

        return $n;
    }
}
