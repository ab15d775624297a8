<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Metrics;

use LambdaCache\Tests\Support\FastCgiClient;
use LambdaCache\Tests\Support\FpmMaster;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TempDir;
use PHPUnit\Framework\TestCase;

/**
 * Bref's fpm runtime: workers serve many requests; a pool made in each request writes one EMF
 * line per request that used it (at request shutdown), none for a request that did nothing,
 * and the lines reach FPM's log through the workers' stderr.
 */
final class FpmMetricsTest extends TestCase
{
    use EmfChecks;

    private const REQUESTS = 12;

    private string $workDir = '';
    private ?FpmMaster $master = null;

    protected function tearDown(): void
    {
        $this->master?->stop();
        $this->master = null;
        if ($this->workDir !== '') {
            TempDir::remove($this->workDir);
        }
    }

    public function testOneLinePerRequestThatUsedThePool(): void
    {
        if (FpmMaster::binary() === null) {
            self::fail('needs php-fpm' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION);
        }
        $this->workDir = TempDir::create('fpm-metrics');
        $front = "{$this->workDir}/front.php";
        file_put_contents($front, "<?php\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n"
            . '$dir = ' . var_export("{$this->workDir}/store", true) . ";\n" . <<<'PHP'
                $i = (int) $_GET['i'];
                $pool = new LambdaCache\TmpCachePool('fpm', directory: $dir, metrics: true);
                if ($i % 3 !== 0) {            // every third request leaves the pool unused
                    $pool->getItem("absent-{$i}");
                    $pool->save($pool->getItem("k{$i}")->set($i));
                }
                echo "ok {$i}";
                PHP);
        $this->master = FpmMaster::start($this->workDir, Php::extensionPath(), 2);
        $client = new FastCgiClient('127.0.0.1', $this->master->port());
        for ($i = 0; $i < self::REQUESTS; $i++) {
            $r = $client->request([
                'GATEWAY_INTERFACE' => 'CGI/1.1', 'SERVER_PROTOCOL' => 'HTTP/1.1', 'REQUEST_METHOD' => 'GET',
                'SCRIPT_FILENAME' => $front, 'SCRIPT_NAME' => '/front.php', 'QUERY_STRING' => "i={$i}",
                'REQUEST_URI' => "/front.php?i={$i}", 'DOCUMENT_ROOT' => $this->workDir, 'CONTENT_LENGTH' => '0',
            ], 15.0);
            self::assertSame("ok {$i}", $r->body, $r->describe());
        }
        // Stopped, the workers have ended their requests and FPM has logged what they wrote.
        $this->master->stop();
        $log = $this->master->log();
        preg_match_all('/said into stderr: "(\{.*\})"/', $log, $m);
        $lines = array_map(static fn (string $l) => json_decode($l, true, 512, JSON_THROW_ON_ERROR), $m[1]);
        self::assertSame(substr_count($log, '"_aws"'), count($lines), $log);
        self::assertCount(8, $lines, "one line for each of the 8 requests that used the pool:\n{$log}");
        foreach ($lines as $line) {
            self::assertEmf($line, 'LambdaCache', 'tmp', 'fpm');
            self::assertSame([0, 2, 1], [$line['Hits'], $line['Misses'], $line['Writes']], 'the activity of one request: two misses, one write');
        }
    }
}
