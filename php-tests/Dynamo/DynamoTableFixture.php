<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\DynamoDbCachePool;
use LambdaCache\Dev\DynamoClient;
use Psr\Cache\CacheItemPoolInterface;

/**
 * A fresh table per test (a unique name, created through the pool's createTable()) on the emulator
 * that scripts/dynalite.sh starts (env LAMBDA_CACHE_DYNAMODB_ENDPOINT), deleted afterwards.
 * Without that variable the test fails with a message saying how to run it.
 */
trait DynamoTableFixture
{
    protected string $endpoint = '';
    protected string $table = '';
    /** @var list<string> */
    private array $tablesToDelete = [];

    protected function setUp(): void
    {
        $endpoint = DynamoClient::endpointFromEnv();
        if ($endpoint === null) {
            $this->fail(DynamoClient::missingEndpointMessage());
        }
        $this->endpoint = $endpoint;
        $this->table = $this->createTestTable();
    }

    protected function tearDown(): void
    {
        // Pools left by the test commit their deferred items now, while the table exists.
        gc_collect_cycles();
        DynamoClient::deleteTablesQuietly($this->tablesToDelete);
        $this->tablesToDelete = [];
    }

    /**
     * Creates a table with a unique name through DynamoDbCachePool::createTable().
     *
     * @param array<string, mixed> $options more constructor arguments (keyAttribute, ttlAttribute, ...)
     */
    protected function createTestTable(array $options = []): string
    {
        // Waits until the table is ACTIVE: the tests here are not about CREATING (DynamoStoreLayoutTest is).
        return $this->client()->createUniqueTable(
            'lc_test',
            fn (string $table) => $this->dynamoPool(['table' => $table] + $options)->createTable(),
            $this->tablesToDelete
        );
    }

    /**
     * A pool on this test's table and the emulator; $options are constructor arguments by name.
     *
     * @param array<string, mixed> $options
     */
    protected function dynamoPool(array $options = []): DynamoDbCachePool
    {
        return new DynamoDbCachePool(...($options + ['table' => $this->table, 'endpoint' => $this->endpoint]));
    }

    protected function createPool(
        string $namespace = 'test',
        int $defaultLifetime = 0,
        bool|array|null $allowedClasses = null,
        ?object $logger = null
    ): CacheItemPoolInterface {
        return $this->dynamoPool(\array_filter([
            'namespace' => $namespace,
            'defaultLifetime' => $defaultLifetime,
            'allowedClasses' => $allowedClasses,
            'logger' => $logger,
        ], static fn (mixed $v): bool => $v !== null));
    }

    protected function client(): DynamoClient
    {
        return DynamoClient::fromEnv();
    }

    /**
     * The raw items of a table that hold a cache value (a Binary $valueAttribute), as stored.
     *
     * @return list<array<string, array<string, mixed>>>
     */
    protected function rawValueItems(?string $table = null, string $valueAttribute = 'value'): array
    {
        return array_values(array_filter(
            $this->client()->scan($table ?? $this->table),
            static fn (array $item): bool => isset($item[$valueAttribute]['B'])
        ));
    }
}
