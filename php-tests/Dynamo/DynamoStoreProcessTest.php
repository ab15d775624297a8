<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * The DynamoDB store in whole processes (docs/platform.md §1): one runtime and one client per process,
 * fork, configuration from the environment, deferred items at process exit.
 */
final class DynamoStoreProcessTest extends TestCase
{
    use DynamoTableFixture;

    public function testOneRuntimeAndOneClientPerProcessAcrossPoolsAndCalls(): void
    {
        $code = <<<'PHP'
            $pools = [];
            foreach (['a', 'b', 'c'] as $ns) {
                $pools[] = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: $ns);
            }
            $failed = [];
            for ($i = 0; $i < 50; $i++) {
                $p = $pools[$i % 3];
                $ok = match ($i % 5) {
                    0 => $p->save($p->getItem("k{$i}")->set($i)),
                    1 => $pools[($i - 1) % 3]->getItem('k' . ($i - 1))->get() === $i - 1,
                    2 => count(is_array($x = $p->getItems(['k0', 'k5', "k{$i}"])) ? $x : iterator_to_array($x)) === 3,
                    3 => $p->deleteItem("k{$i}"),
                    4 => $p->hasItem("k{$i}") === false,
                };
                if (!$ok) {
                    $failed[] = $i;
                }
            }
            $late = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: 'late');
            $late->save($late->getItem('x')->set(1));
            echo json_encode(['failed' => $failed, 'first' => $pools[0]->stats(), 'late' => $late->stats()]);
            PHP;
        $r = Php::run($code, ['table' => $this->table, 'endpoint' => $this->endpoint]);
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertSame('', $r->stderr, $r->describe());
        $out = json_decode($r->stdout, true);
        $this->assertTrue(is_array($out), $r->describe());
        $this->assertSame([], $out['failed'], 'calls that did not work');
        foreach (['first', 'late'] as $which) {
            foreach (['runtimes_created', 'clients_created'] as $counter) {
                $this->assertArrayHasKey($counter, $out[$which], "stats() of the {$which} pool");
                $this->assertSame(1, $out[$which][$counter], "{$counter} after 4 pools and 51 calls in one process ({$which} pool)");
            }
        }
    }

    public function testStatsAreIntegers(): void
    {
        $pool = $this->dynamoPool();
        $pool->hasItem('k');
        $stats = $pool->stats();
        foreach (['runtimes_created', 'clients_created'] as $counter) {
            $this->assertArrayHasKey($counter, $stats);
            $this->assertTrue(is_int($stats[$counter]) && $stats[$counter] >= 1, "{$counter}: " . var_export($stats[$counter], true));
        }
    }

    public function testAForkedChildAndItsParentBothKeepWorking(): void
    {
        $code = <<<'PHP'
            if (!function_exists('pcntl_fork')) {
                echo 'no pcntl';
                exit(0);
            }
            $pool = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: 'fork');
            $pool->save($pool->getItem('before')->set('parent'));
            $pid = pcntl_fork();
            if ($pid === 0) {
                $child = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: 'fork');
                $ok = $pool->getItem('before')->get() === 'parent'
                    && $pool->save($pool->getItem('from-child')->set('child'))
                    && $child->getItem('from-child')->get() === 'child';
                exit($ok ? 0 : 3);
            }
            pcntl_waitpid($pid, $status);
            $code = pcntl_wifexited($status) ? pcntl_wexitstatus($status) : 128 + pcntl_wtermsig($status);
            echo json_encode([
                'child' => $code,
                'parent reads child' => $pool->getItem('from-child')->get(),
                'parent saves' => $pool->save($pool->getItem('after')->set('parent again')),
            ]);
            PHP;
        $r = Php::run($code, ['table' => $this->table, 'endpoint' => $this->endpoint], [], 60.0);
        if ($r->stdout === 'no pcntl') {
            $this->markTestSkipped('pcntl is not built into this PHP');
        }
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertSame(['child' => 0, 'parent reads child' => 'child', 'parent saves' => true], json_decode($r->stdout, true), $r->describe());
        $this->assertSame('parent again', $this->dynamoPool(['namespace' => 'fork'])->getItem('after')->get());
    }

    public function testTableAndEndpointFromTheEnvironment(): void
    {
        $code = <<<'PHP'
            $pool = new LambdaCache\DynamoDbCachePool(namespace: 'env');
            echo json_encode([$pool->save($pool->getItem($key)->set('from env')), $pool->getItem($key)->get()]);
            PHP;
        $cases = ['AWS_ENDPOINT_URL_DYNAMODB' => ['DYNAMO_DB_TABLE' => $this->table, 'AWS_ENDPOINT_URL_DYNAMODB' => $this->endpoint]];
        if (getenv('AWS_ENDPOINT_URL_DYNAMODB') === false) {
            $cases['AWS_ENDPOINT_URL'] = ['DYNAMO_DB_TABLE' => $this->table, 'AWS_ENDPOINT_URL' => $this->endpoint];
        }
        foreach ($cases as $label => $env) {
            $r = Php::run($code, ['key' => $label], $env);
            $this->assertSame('[true,"from env"]', $r->stdout, "{$label}\n" . $r->describe());
            $this->assertSame('from env', $this->dynamoPool(['namespace' => 'env'])->getItem($label)->get(), $label);
        }
    }

    public function testRegionAndCredentialsGivenAsArguments(): void
    {
        $pool = $this->dynamoPool([
            'namespace' => 'args', 'region' => 'us-east-1',
            'accessKeyId' => 'AKIDEXAMPLE', 'secretAccessKey' => 'wJalrXUtnFEMI/K7MDENG', 'sessionToken' => 'session-token',
            'connectTimeoutMs' => 500, 'attemptTimeoutMs' => 2000, 'operationTimeoutMs' => 5000, 'maxAttempts' => 2,
        ]);
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')));
        $this->assertSame('v', $this->dynamoPool(['namespace' => 'args'])->getItem('k')->get());
    }

    public function testDeferredItemsAreCommittedWhenTheProcessEnds(): void
    {
        $code = <<<'PHP'
            $pool = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: 'shutdown');
            $pool->saveDeferred($pool->getItem("{$how}-1")->set("first pool, {$how}"));
            $other = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: 'shutdown');
            $other->saveDeferred($other->getItem("{$how}-2")->set("second pool, {$how}"));
            if ($how === 'exit') {
                exit(0);
            }
            PHP;
        foreach (['end', 'exit'] as $how) {
            $r = Php::run($code, ['table' => $this->table, 'endpoint' => $this->endpoint, 'how' => $how]);
            $this->assertSame(0, $r->exitCode, $r->describe());
            $this->assertSame('', $r->stderr, $r->describe());
        }
        $reader = $this->dynamoPool(['namespace' => 'shutdown']);
        foreach (['end', 'exit'] as $how) {
            $this->assertSame("first pool, {$how}", $reader->getItem("{$how}-1")->get(), "deferred item at the {$how} of the script");
            $this->assertSame("second pool, {$how}", $reader->getItem("{$how}-2")->get(), "deferred item at the {$how} of the script");
        }
    }
}
