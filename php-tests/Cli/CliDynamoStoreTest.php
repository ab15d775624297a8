<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Cli;

use LambdaCache\Cli\ExitCode;
use LambdaCache\DynamoDbCachePool;
use LambdaCache\Tests\Dynamo\DynamoTableFixture;
use LambdaCache\Dev\DynamoClient;
use LambdaCache\Dev\FaultProxy;
use LambdaCache\Tests\Support\ProcessResult;
use PHPUnit\Framework\TestCase;

/**
 * bin/lambda-cache on DynamoDB, run as a child process against the emulator (and through
 * FaultProxy for refused requests): every command, --json output, progress of create-table on
 * stderr, the exit statuses of a missing table and of denied access, in one line.
 */
final class CliDynamoStoreTest extends TestCase
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

    /**
     * @param list<string> $args
     * @param array<string, string|false> $env
     */
    private function cli(array $args, array $env = []): ProcessResult
    {
        return LambdaCacheCommand::run([...$args, '--endpoint=' . $this->endpoint], $env);
    }

    public function testCreateTableCreatesAnOnDemandTableAndSaysOnStderrWhileItWaits(): void
    {
        $table = DynamoClient::uniqueTableName('lc_cli');
        $this->tablesToDelete[] = $table;
        $this->proxy = FaultProxy::start($this->endpoint);

        $r = LambdaCacheCommand::run(['create-table', "--table={$table}", '--endpoint=' . $this->proxy->endpoint(), '--json']);
        $this->assertSame(ExitCode::OK, $r->exitCode, $r->describe());
        $data = LambdaCacheCommand::json($r);
        $this->assertSame(['store', 'table', 'created', 'status', 'billing_mode', 'ttl_enabled', 'message'], array_keys($data));
        $this->assertSame(['dynamodb', $table, true, 'ACTIVE', 'PAY_PER_REQUEST'], [$data['store'], $data['table'], $data['created'], $data['status'], $data['billing_mode']]);
        $this->assertMatchesRegularExpression("/^created table {$table}; TTL (on ttl|not enabled \\(.+\\))$/", $data['message']);
        $this->assertSame(str_contains($data['message'], '; TTL on ttl'), $data['ttl_enabled']);
        $this->assertMatchesRegularExpression(
            "/^lambda-cache: created table {$table}; waiting until it is ACTIVE\n(lambda-cache: table {$table} is CREATING after \\d+ s; waiting\n)*lambda-cache: table {$table} is ACTIVE \\(after \\d+\\.\\d s\\)\n$/",
            $r->stderr,
            'progress lines on stderr'
        );
        $ops = $this->proxy->operations();
        $this->assertSame(2, $ops['CreateTable'] ?? 0, 'once to create, once to finish: ' . json_encode($ops));
        $this->assertSame(1, $ops['UpdateTimeToLive'] ?? 0, 'TTL asked for: ' . json_encode($ops));
        $this->assertGreaterThanOrEqual(2, $ops['DescribeTable'] ?? 0, 'it polls the status: ' . json_encode($ops));

        $described = $this->client()->describeTable($table);
        $this->assertSame('ACTIVE', $described['TableStatus']);
        $this->assertSame('PAY_PER_REQUEST', $described['BillingModeSummary']['BillingMode']);
        $this->assertSame([['AttributeName' => 'id', 'KeyType' => 'HASH']], $described['KeySchema']);
        $this->assertSame([['AttributeName' => 'id', 'AttributeType' => 'S']], $described['AttributeDefinitions']);

        $again = $this->cli(['create-table', "--table={$table}"]);
        $this->assertSame(ExitCode::OK, $again->exitCode, $again->describe());
        $this->assertMatchesRegularExpression("/^table {$table} exists; TTL .+\n$/", $again->stdout);
        $this->assertStringStartsWith("lambda-cache: table {$table} exists; waiting until it is ACTIVE\n", $again->stderr);
        $quiet = $this->cli(['create-table', "--table={$table}", '--quiet', '--json']);
        $this->assertSame([ExitCode::OK, ''], [$quiet->exitCode, $quiet->stderr]);
        $this->assertFalse(LambdaCacheCommand::json($quiet)['created']);
    }

    public function testStatsTellsTheTable(): void
    {
        $r = $this->cli(['stats', "--table={$this->table}", '--namespace=app', '--json']);
        $this->assertSame(ExitCode::OK, $r->exitCode, $r->describe());
        $data = LambdaCacheCommand::json($r);
        $this->assertSame(['store', 'table', 'namespace', 'status', 'item_count', 'size_bytes', 'billing_mode'], array_keys($data));
        $this->assertSame(['dynamodb', $this->table, 'app', 'ACTIVE', 'PAY_PER_REQUEST'], [$data['store'], $data['table'], $data['namespace'], $data['status'], $data['billing_mode']]);
        $this->assertIsInt($data['item_count']);
        $this->assertIsInt($data['size_bytes']);

        // The table from DYNAMO_DB_TABLE, the endpoint from AWS_ENDPOINT_URL_DYNAMODB.
        $env = LambdaCacheCommand::run(['stats', '--store=dynamodb'], ['DYNAMO_DB_TABLE' => $this->table, 'AWS_ENDPOINT_URL_DYNAMODB' => $this->endpoint]);
        $this->assertSame(ExitCode::OK, $env->exitCode, $env->describe());
        $this->assertStringContainsString("table: {$this->table}\n", $env->stdout);
        $this->assertStringContainsString("status: ACTIVE\n", $env->stdout);

        $none = LambdaCacheCommand::run(['stats', '--store=dynamodb', '--region=us-east-1'], ['DYNAMO_DB_TABLE' => false]);
        LambdaCacheCommand::assertOneLineError($none, ExitCode::USAGE, '/table/', 'no table');
    }

    public function testGetDeleteAndClear(): void
    {
        $pool = $this->dynamoPool(['namespace' => 'app']);
        $this->assertTrue($pool->save($pool->getItem('s')->set('shared')));
        $this->assertTrue($pool->save($pool->getItem('a')->set(['n' => 1, 'f' => 0.5])));
        $this->assertTrue($pool->save($pool->getItem('gone')->set('soon')));
        $other = $this->dynamoPool(['namespace' => 'other']);
        $this->assertTrue($other->save($other->getItem('s')->set('kept')));
        $t = "--table={$this->table}";

        $s = $this->cli(['get', 's', $t, '--namespace=app']);
        $this->assertSame([ExitCode::OK, 'shared', ''], [$s->exitCode, $s->stdout, $s->stderr], $s->describe());
        $a = $this->cli(['get', 'a', $t, '--namespace=app']);
        $this->assertSame(var_export(['n' => 1, 'f' => 0.5], true) . "\n", $a->stdout);
        $this->assertSame(
            ['key' => 'a', 'found' => true, 'type' => 'array', 'encoding' => 'json', 'value' => ['n' => 1, 'f' => 0.5]],
            LambdaCacheCommand::json($this->cli(['get', 'a', $t, '--namespace=app', '--json']))
        );

        $deleted = $this->cli(['delete', 'gone', $t, '--namespace=app', '--json']);
        $this->assertSame(ExitCode::OK, $deleted->exitCode, $deleted->describe());
        $this->assertSame(['store' => 'dynamodb', 'table' => $this->table, 'namespace' => 'app', 'key' => 'gone', 'deleted' => true], LambdaCacheCommand::json($deleted));
        $this->assertFalse($pool->hasItem('gone'));
        $miss = $this->cli(['get', 'gone', $t, '--namespace=app', '--json']);
        $this->assertSame([ExitCode::NOT_FOUND, ['key' => 'gone', 'found' => false]], [$miss->exitCode, LambdaCacheCommand::json($miss)]);

        $cleared = $this->cli(['clear', $t, '--namespace=app', '--json']);
        $this->assertSame(ExitCode::OK, $cleared->exitCode, $cleared->describe());
        $this->assertSame(['store' => 'dynamodb', 'table' => $this->table, 'namespace' => 'app', 'cleared' => true], LambdaCacheCommand::json($cleared));
        $after = $this->cli(['get', 's', $t, '--namespace=app']);
        $this->assertSame(ExitCode::NOT_FOUND, $after->exitCode, 'clear cleared the namespace: ' . $after->describe());
        $kept = $this->cli(['get', 's', $t, '--namespace=other']);
        $this->assertSame([ExitCode::OK, 'kept'], [$kept->exitCode, $kept->stdout], 'and only that namespace');
    }

    public function testAMissingTableIsStatus4InOneLine(): void
    {
        $missing = DynamoClient::uniqueTableName('lc_cli_missing');
        foreach ([['stats'], ['get', 'k'], ['delete', 'k'], ['clear']] as $args) {
            $what = implode(' ', $args);
            $r = $this->cli([...$args, "--table={$missing}"]);
            LambdaCacheCommand::assertOneLineError($r, ExitCode::TABLE_NOT_FOUND, "/table {$missing} does not exist/", $what);
            $this->assertSame('', $r->stdout, $what);
        }
        $json = $this->cli(['stats', "--table={$missing}", '--json']);
        LambdaCacheCommand::assertOneLineError($json, ExitCode::TABLE_NOT_FOUND, '/does not exist/', 'stats --json');
        $error = LambdaCacheCommand::json($json);
        $this->assertSame(ExitCode::TABLE_NOT_FOUND, $error['exit_code']);
        $this->assertStringContainsString("table {$missing} does not exist", $error['error']);
    }

    public function testDeniedAccessIsStatus5AndNoAnswerStatus3(): void
    {
        $this->proxy = FaultProxy::start($this->endpoint);
        $this->proxy->setMode('denied');
        $via = '--endpoint=' . $this->proxy->endpoint();
        $t = "--table={$this->table}";
        foreach ([['stats'], ['get', 'k'], ['delete', 'k'], ['clear'], ['create-table']] as $args) {
            $what = implode(' ', $args);
            $r = LambdaCacheCommand::run([...$args, $t, $via]);
            LambdaCacheCommand::assertOneLineError($r, ExitCode::ACCESS_DENIED, '/AccessDeniedException/', "denied: {$what}");
            $this->assertSame('', $r->stdout, $what);
        }
        $json = LambdaCacheCommand::run(['get', 'k', $t, $via, '--json']);
        $this->assertSame(ExitCode::ACCESS_DENIED, LambdaCacheCommand::json($json)['exit_code'], $json->describe());

        $this->proxy->setMode('refuse');
        $r = LambdaCacheCommand::run(['get', 'k', $t, $via]);
        LambdaCacheCommand::assertOneLineError($r, ExitCode::STORE_ERROR, '/no answer/', 'connection refused');
    }
}
