<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Tests\Conformance\PoolConformanceTestCase;

/** The PSR-6 conformance suite against the DynamoDB store (a fresh table per test). */
final class DynamoPoolConformanceTest extends PoolConformanceTestCase
{
    use DynamoTableFixture;

    protected function childPool(): array
    {
        return ['$pool = new LambdaCache\\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: $ns, allowedClasses: true);' . "\n", ['table' => $this->table, 'endpoint' => $this->endpoint]];
    }
}
