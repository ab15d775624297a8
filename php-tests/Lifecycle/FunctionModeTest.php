<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Lifecycle;

use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * Bref's function runtime with BREF_LOOP_MAX=1 (docs/platform.md §1): every invocation is a new PHP
 * process. What one process wrote, the next one reads, in both stores; the runtime and the
 * DynamoDB client are made lazily, once per process, and never by a process that only uses /tmp.
 */
final class FunctionModeTest extends TestCase
{
    use LifecycleFixture;

    private const INVOCATIONS = 20;

    /** One invocation: read both counters, write the next value, report what happened. */
    private const INVOCATION = <<<'PHP'
        $tmp = new LambdaCache\TmpCachePool(namespace: 'fn', directory: $dir);
        $dyn = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT'), namespace: 'fn');
        $report = ['pid' => getmypid(), 'after constructors' => array_intersect_key($dyn->stats(), ['runtimes_created' => 0, 'clients_created' => 0])];

        $item = $tmp->getItem('counter');
        $report['tmp read'] = $item->isHit() ? $item->get() : 'miss';
        $report['tmp saved'] = $tmp->save($item->set(($item->isHit() ? $item->get() : 0) + 1));
        $report['tmp log'] = $tmp->getItem('log')->get() ?? [];
        $tmp->save($tmp->getItem('log')->set([...$report['tmp log'], getmypid()]));
        $report['after tmp'] = array_intersect_key($dyn->stats(), ['runtimes_created' => 0, 'clients_created' => 0]);

        $item = $dyn->getItem('counter');
        $report['after first dynamo call'] = array_intersect_key($dyn->stats(), ['runtimes_created' => 0, 'clients_created' => 0]);
        $report['dynamo read'] = $item->isHit() ? $item->get() : 'miss';
        $report['dynamo saved'] = $dyn->save($item->set(($item->isHit() ? $item->get() : 0) + 1));

        // A second pool object with the same configuration, as a framework might make: same client.
        $again = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT'), namespace: 'fn');
        $cache = new LambdaCache\Psr16Cache($again);
        $report['dynamo reread'] = $cache->get('counter');
        $report['dynamo log'] = $cache->get('log', []);
        $cache->set('log', [...$report['dynamo log'], getmypid()]);
        $report['tmp reread'] = (new LambdaCache\Psr16Cache($tmp))->get('counter');
        $report['at the end'] = array_intersect_key($again->stats(), ['runtimes_created' => 0, 'clients_created' => 0]);
        echo json_encode($report), "\n";
        PHP;

    /** A process that only uses the /tmp pool (the DynamoDB pool is constructed, never called). */
    private const TMP_ONLY = <<<'PHP'
        $dyn = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT'), namespace: 'fn');
        $tmp = new LambdaCache\TmpCachePool(namespace: 'fn', directory: $dir);
        $cache = new LambdaCache\Psr16Cache($tmp);
        $read = $cache->get('counter');
        $ok = $cache->set('tmp-only', getmypid()) && $cache->get('tmp-only') === getmypid()
            && count(iterator_to_array($tmp->getItems(['counter', 'log', 'tmp-only']))) === 3;
        echo json_encode(['counter' => $read, 'ok' => $ok, 'stats' => array_intersect_key($dyn->stats(), ['runtimes_created' => 0, 'clients_created' => 0])]), "\n";
        PHP;

    public function testEveryInvocationIsAFreshProcessThatSeesThePreviousOnesWrites(): void
    {
        $none = ['runtimes_created' => 0, 'clients_created' => 0];
        $one = ['runtimes_created' => 1, 'clients_created' => 1];
        $pids = [];
        $started = microtime(true);
        for ($i = 1; $i <= self::INVOCATIONS; $i++) {
            $r = Php::run(self::INVOCATION, $this->childVars(), [], 30.0);
            $this->assertCleanExit($r, "invocation {$i}");
            $out = $this->lastJsonLine($r);
            $what = "invocation {$i}\n" . $r->describe();
            $previous = $i === 1 ? 'miss' : $i - 1;
            $this->assertSame($previous, $out['tmp read'], "/tmp counter read by {$what}");
            $this->assertSame($previous, $out['dynamo read'], "DynamoDB counter read by {$what}");
            $this->assertTrue($out['tmp saved'], "/tmp save in {$what}");
            $this->assertTrue($out['dynamo saved'], "DynamoDB save in {$what}");
            $this->assertSame($i, $out['tmp reread'], $what);
            $this->assertSame($i, $out['dynamo reread'], $what);
            $this->assertSame($pids, $out['tmp log'], "/tmp log: the pids of the earlier invocations, {$what}");
            $this->assertSame($pids, $out['dynamo log'], "DynamoDB log: the pids of the earlier invocations, {$what}");
            $this->assertNotContains($out['pid'], $pids, 'every invocation is a new process');
            $this->assertSame($none, $out['after constructors'], "constructors create nothing: {$what}");
            $this->assertSame($none, $out['after tmp'], "the /tmp pool creates no runtime: {$what}");
            $this->assertSame($one, $out['after first dynamo call'], "the first DynamoDB call creates both: {$what}");
            $this->assertSame($one, $out['at the end'], "one runtime and one client per process: {$what}");
            $pids[] = $out['pid'];
        }
        $elapsed = microtime(true) - $started;

        $tmp = $this->tmpPool('fn');
        $dyn = $this->dynamoPool('fn');
        $this->assertSame(self::INVOCATIONS, $tmp->getItem('counter')->get(), '/tmp counter after all invocations');
        $this->assertSame(self::INVOCATIONS, $dyn->getItem('counter')->get(), 'DynamoDB counter after all invocations');
        $this->assertSame($pids, $tmp->getItem('log')->get());
        $this->assertSame($pids, $dyn->getItem('log')->get());
        // Generous: a process start with the extension is tens of milliseconds here.
        $this->assertLessThan(60.0, $elapsed, sprintf('%d invocations took %.1f s', self::INVOCATIONS, $elapsed));

        $r = Php::run(self::TMP_ONLY, $this->childVars(), [], 30.0);
        $this->assertCleanExit($r, 'the /tmp-only process');
        $out = $this->lastJsonLine($r);
        $this->assertSame(self::INVOCATIONS, $out['counter'], $r->describe());
        $this->assertTrue($out['ok'], $r->describe());
        $this->assertSame($none, $out['stats'], "a process that only uses the /tmp pool creates no runtime and no client\n" . $r->describe());
    }
}
