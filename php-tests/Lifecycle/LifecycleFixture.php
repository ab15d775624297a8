<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Lifecycle;

use LambdaCache\DynamoDbCachePool;
use LambdaCache\Dev\DynamoClient;
use LambdaCache\Tests\Support\ProcessResult;
use LambdaCache\Tests\Support\TempDir;
use LambdaCache\TmpCachePool;

/**
 * Both stores for a process-model test: a fresh work directory (the /tmp store lives in
 * `$storeDir`, other files of the test next to it) and a fresh DynamoDB table on the emulator
 * (env LAMBDA_CACHE_DYNAMODB_ENDPOINT, see scripts/dynalite.sh). Both are removed in tearDown(),
 * which PHPUnit runs also when the test or setUp() failed.
 */
trait LifecycleFixture
{
    protected string $workDir = '';
    protected string $storeDir = '';
    protected string $table = '';
    protected string $endpoint = '';
    /** @var list<string> */
    private array $tablesToDelete = [];

    protected function setUp(): void
    {
        $endpoint = DynamoClient::endpointFromEnv();
        if ($endpoint === null) {
            $this->fail(DynamoClient::missingEndpointMessage());
        }
        $this->endpoint = $endpoint;
        $this->workDir = TempDir::create('lifecycle');
        $this->storeDir = $this->workDir . '/store';
        $this->table = DynamoClient::fromEnv()->createUniqueTable(
            'lc_life',
            fn (string $table) => (new DynamoDbCachePool(table: $table, endpoint: $this->endpoint))->createTable(),
            $this->tablesToDelete
        );
    }

    protected function tearDown(): void
    {
        gc_collect_cycles();
        DynamoClient::deleteTablesQuietly($this->tablesToDelete);
        $this->tablesToDelete = [];
        TempDir::remove($this->workDir);
    }

    /** A /tmp pool on this test's store directory, in the PHPUnit process. */
    protected function tmpPool(string $namespace): TmpCachePool
    {
        return new TmpCachePool(namespace: $namespace, directory: $this->storeDir);
    }

    /** A DynamoDB pool on this test's table, in the PHPUnit process. */
    protected function dynamoPool(string $namespace): DynamoDbCachePool
    {
        return new DynamoDbCachePool(table: $this->table, endpoint: $this->endpoint, namespace: $namespace);
    }

    /** Variables every child script gets: $dir (the /tmp store) and $table. */
    protected function childVars(array $more = []): array
    {
        return ['dir' => $this->storeDir, 'table' => $this->table] + $more;
    }

    /** The JSON object a child printed as its last stdout line; fails the test otherwise. */
    protected function lastJsonLine(ProcessResult $r): array
    {
        $lines = preg_split('/\R/', trim($r->stdout)) ?: [];
        $decoded = json_decode((string) end($lines), true);
        $this->assertTrue(is_array($decoded), "no JSON report from the child\n" . $r->describe());
        return $decoded;
    }

    /** A child must end normally, with status 0 and nothing on stderr (no warning, no crash). */
    protected function assertCleanExit(ProcessResult $r, string $what): void
    {
        $this->assertNull($r->termSignal, "{$what} was killed by a signal\n" . $r->describe());
        $this->assertSame(0, $r->exitCode, "{$what} failed\n" . $r->describe());
        $this->assertSame('', $r->stderr, "{$what} wrote to stderr\n" . $r->describe());
    }
}
