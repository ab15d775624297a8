<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Lifecycle;

use LambdaCache\Tests\Support\FastCgiClient;
use LambdaCache\Tests\Support\FastCgiResponse;
use LambdaCache\Tests\Support\FpmMaster;
use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * Bref's fpm runtime (docs/platform.md §1): the php-fpm master loads the extension (MINIT) and forks its
 * workers; every worker serves many requests, each using both stores. Requests go through a
 * FastCGI client in PHP (bounded concurrency).
 *
 * LAMBDA_CACHE_FPM_REQUESTS sets the number of requests (default 10000).
 */
final class FpmTest extends TestCase
{
    use LifecycleFixture {
        tearDown as fixtureTearDown;
    }

    private const WORKERS = 4;
    private const CONCURRENCY = 8;
    private const REQUEST_TIMEOUT = 15.0;
    /** After this many failed requests (errors, timeouts) the rest are not sent: the test ends soon. */
    private const MAX_FAILURES = 20;
    private const SEEDS = ['seed-0' => 'plain string', 'seed-1' => ['nested' => [1, 2.5, true, null]], 'seed-2' => 42];

    /** The front script: both pools on every request; one line with its pid, counters, checksum, stats. */
    private const FRONT = <<<'PHP'
        $i = (int) ($_GET['i'] ?? -1);
        $pid = getmypid();
        $pools = [
            'tmp' => new LambdaCache\TmpCachePool(namespace: 'fpm', directory: $dir),
            'dynamo' => new LambdaCache\DynamoDbCachePool(table: $table, endpoint: getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT'), namespace: 'fpm'),
        ];
        $parts = [];
        $counts = [];
        foreach ($pools as $name => $pool) {
            $read = [];
            foreach ($pool->getItems(['seed-0', 'seed-1', 'seed-2', "req-{$i}"]) as $key => $item) {
                $read[$key] = $item->isHit() ? $item->get() : null;
            }
            $saved = $pool->save($pool->getItem("req-{$i}")->set(['i' => $i, 'pool' => $name]));
            $back = $pool->getItem("req-{$i}")->get();
            $counter = $pool->getItem("count-{$pid}");
            $counts[$name] = ($counter->isHit() ? $counter->get() : 0) + 1;
            $saved = $pool->save($counter->set($counts[$name])) && $saved;
            $parts[$name] = [$read, $saved, $back];
        }
        $stats = $pools['dynamo']->stats();
        header('Content-Type: text/plain');
        printf("ok pid=%d i=%d sum=%s tmp=%d dynamo=%d runtimes=%d clients=%d\n", $pid, $i, md5(json_encode($parts)),
            $counts['tmp'], $counts['dynamo'], $stats['runtimes_created'], $stats['clients_created']);
        PHP;

    private ?FpmMaster $master = null;

    protected function tearDown(): void
    {
        // Stop the master (and any worker) before the fixture removes the directory and the table.
        $this->master?->stop();
        $this->master = null;
        $this->fixtureTearDown();
    }

    public function testManyRequestsOverFourWorkersOfAMasterThatLoadedTheExtension(): void
    {
        if (FpmMaster::binary() === null || !function_exists('posix_kill')) {
            $this->markTestSkipped('needs php-fpm' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION . ' and posix');
        }
        $total = (int) (getenv('LAMBDA_CACHE_FPM_REQUESTS') ?: 10000);
        $this->assertGreaterThanOrEqual(200, $total, 'LAMBDA_CACHE_FPM_REQUESTS is too small');
        foreach ([$this->tmpPool('fpm'), $this->dynamoPool('fpm')] as $pool) {
            foreach (self::SEEDS as $key => $value) {
                $this->assertTrue($pool->save($pool->getItem($key)->set($value)));
            }
        }
        $front = "{$this->workDir}/front.php";
        file_put_contents($front, "<?php\ndeclare(strict_types=1);\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n"
            . '$dir = ' . var_export($this->storeDir, true) . ";\n\$table = " . var_export($this->table, true) . ";\n" . self::FRONT . "\n");

        $this->master = FpmMaster::start($this->workDir, Php::extensionPath(), self::WORKERS);
        $master = $this->master;
        $this->assertTrue($master->hasMapped(Php::extensionPath()), 'the master loaded the extension (MINIT before the fork)');
        $this->assertCount(self::WORKERS, $master->workers(), 'workers forked by the master');
        $params = fn (int $i): array => [
            'GATEWAY_INTERFACE' => 'CGI/1.1', 'SERVER_SOFTWARE' => 'lambda-cache-tests', 'SERVER_PROTOCOL' => 'HTTP/1.1',
            'SERVER_NAME' => 'localhost', 'SERVER_PORT' => '80', 'REMOTE_ADDR' => '127.0.0.1', 'REQUEST_METHOD' => 'GET',
            'SCRIPT_FILENAME' => $front, 'SCRIPT_NAME' => '/front.php', 'REQUEST_URI' => "/front.php?i={$i}",
            'DOCUMENT_ROOT' => $this->workDir, 'QUERY_STRING' => "i={$i}", 'CONTENT_LENGTH' => '0',
        ];

        $started = microtime(true);
        $client = new FastCgiClient('127.0.0.1', $master->port());
        $overall = max(120.0, $total * 0.03);
        $responses = $client->runAll(array_map($params, range(0, $total - 1)), self::CONCURRENCY, self::REQUEST_TIMEOUT, $overall, self::MAX_FAILURES);
        $seconds = microtime(true) - $started;
        fwrite(STDERR, sprintf("\nFpmTest: %d requests in %.1f s, %.0f requests/s\n", $total, $seconds, $total / max($seconds, 0.001)));
        $workersAfter = $master->childPids();

        $this->assertCount($total, $responses);
        $bad = [];
        $byPid = [];
        foreach ($responses as $i => $response) {
            $problem = $this->check($response, $i);
            if ($problem !== null) {
                $bad[] = "request {$i}: {$problem}";
                continue;
            }
            preg_match('/pid=(\d+) .* tmp=(\d+) dynamo=(\d+)/', $response->body, $m);
            $byPid[(int) $m[1]][] = [(int) $m[2], (int) $m[3]];
        }
        $this->assertSame([], array_slice($bad, 0, 10), count($bad) . " of {$total} requests failed\n" . $master->log());

        // Spread over the workers, each of which saw every one of its earlier writes.
        $pids = array_keys($byPid);
        sort($pids);
        $this->assertSame($master->workers(), $pids, 'the workers that answered are the ones the master forked');
        $this->assertSame($master->workers(), $workersAfter, 'no worker died and was replaced');
        foreach ($byPid as $pid => $counts) {
            $this->assertGreaterThanOrEqual(intdiv($total, 4 * self::WORKERS), count($counts), "worker {$pid} served too few requests");
            $served = range(1, count($counts));
            $this->assertSame($served, $this->sorted(array_column($counts, 0)), "/tmp counter of worker {$pid} over its requests");
            $this->assertSame($served, $this->sorted(array_column($counts, 1)), "DynamoDB counter of worker {$pid} over its requests");
            $this->assertSame(count($counts), $this->tmpPool('fpm')->getItem("count-{$pid}")->get(), "/tmp counter of worker {$pid}");
            $this->assertSame(count($counts), $this->dynamoPool('fpm')->getItem("count-{$pid}")->get(), "DynamoDB counter of worker {$pid}");
        }
        $this->assertSame($total, $this->dynamoPool('fpm')->getItem('req-' . ($total - 1))->get()['i'] + 1);

        $master->stop();
        $log = $master->log();
        $this->assertSame('SIGQUIT', $master->stoppedBy(), "the master did not end on SIGQUIT\n{$log}");
        $this->assertFalse($master->isRunning());
        foreach ($master->workers() as $pid) {
            $this->assertFalse(FpmMaster::isFpmProcess($pid), "worker {$pid} is still there");
        }
        $this->assertStringContainsString('ready to handle connections', $log);
        $this->assertSame(0, preg_match('/WARNING|ERROR|ALERT|SIGSEGV|SIGABRT|SIGBUS|core dumped|said into std/', $log), "fpm log:\n{$log}");
        $this->assertSame('', $master->phpErrors(), 'PHP errors of the workers');
        $this->assertLessThan(max(150.0, $total * 0.035), $seconds, "{$total} requests took {$seconds} s");
    }

    /** Why a response is not the expected one, or null. */
    private function check(FastCgiResponse $r, int $i): ?string
    {
        if ($r->error !== null || $r->status !== 200 || $r->stderr !== '' || $r->appStatus !== 0) {
            return $r->describe();
        }
        $expected = [];
        foreach (['tmp', 'dynamo'] as $name) {
            $expected[$name] = [self::SEEDS + ["req-{$i}" => null], true, ['i' => $i, 'pool' => $name]];
        }
        $sum = md5(json_encode($expected));
        // runtimes=1 clients=1: made once in the worker, and none in the master before the fork
        // (the counters are inherited through fork()).
        if (preg_match("/^ok pid=\\d+ i={$i} sum={$sum} tmp=(\\d+) dynamo=\\1 runtimes=1 clients=1\n\\z/", $r->body) !== 1) {
            return 'unexpected body (wanted sum ' . $sum . ', equal counters, runtimes=1 clients=1): ' . $r->describe();
        }
        return null;
    }

    private function sorted(array $values): array
    {
        sort($values);
        return $values;
    }
}
