<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Support\BackgroundProcess;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TempDir;
use LambdaCache\TmpCachePool;
use PHPUnit\Framework\TestCase;

/** The /tmp store shared by processes: persistence, concurrency, SIGKILL, fork, default directory. */
final class TmpStoreProcessTest extends TestCase
{
    use TmpDirectoryFixture;

    /** Child code: validate(mixed $v, string $key): bool for the values written by the concurrency test. */
    private const VALIDATE = <<<'PHP'
        function validate(mixed $v, string $key): bool {
            if (!is_array($v) || array_keys($v) !== ['worker', 'i', 'key', 'payload', 'crc']) {
                return false;
            }
            $len = strlen($v['payload']);
            return is_int($v['worker']) && is_int($v['i']) && $v['key'] === $key && $len >= 100
                && $v['payload'] === str_repeat(chr(65 + $v['worker']), $len) && crc32($v['payload']) === $v['crc'];
        }
        PHP;

    public function testEntriesPersistAcrossProcesses(): void
    {
        $r = Php::run(
            '$p = new LambdaCache\TmpCachePool(namespace: "x", directory: $dir);'
            . 'var_export($p->save($p->getItem("from-child")->set(["int" => 1, "float" => -0.0, "bin" => "\0\xff"])));',
            ['dir' => $this->dir]
        );
        $this->assertSame('true', $r->stdout, $r->describe());
        $pool = new TmpCachePool(namespace: 'x', directory: $this->dir);
        $value = $pool->getItem('from-child')->get();
        $this->assertSame(['int', 'float', 'bin'], array_keys($value));
        $this->assertSame(1, $value['int']);
        $this->assertSame(-INF, fdiv(1.0, $value['float']));
        $this->assertSame("\0\xff", $value['bin']);

        $this->assertTrue($pool->save($pool->getItem('from-parent')->set([1.5, null])));
        $r = Php::run('$p = new LambdaCache\TmpCachePool(namespace: "x", directory: $dir); var_export($p->getItem("from-parent")->get());', ['dir' => $this->dir]);
        $this->assertSame(var_export([1.5, null], true), $r->stdout, $r->describe());
    }

    public function testManyProcessesReadAndWriteOverlappingKeysAtOnce(): void
    {
        $code = self::VALIDATE . <<<'PHP'

            $pool = new LambdaCache\TmpCachePool(namespace: 'conc', directory: $dir);
            mt_srand($worker + 1);
            $bad = 0;
            $hits = 0;
            for ($i = 0; $i < 500; $i++) {
                $key = 'k' . mt_rand(0, 39);
                if ($i % 2 === 0) {
                    $payload = str_repeat(chr(65 + $worker), 100 + mt_rand(0, 4000));
                    $item = $pool->getItem($key)->set(['worker' => $worker, 'i' => $i, 'key' => $key, 'payload' => $payload, 'crc' => crc32($payload)]);
                    $ok = $i % 10 === 0 ? ($pool->saveDeferred($item) && $pool->commit()) : $pool->save($item);
                    if (!$ok) {
                        echo "save failed: {$key}\n";
                        $bad++;
                    }
                } elseif ($i % 13 === 0) {
                    $pool->deleteItem($key);
                } elseif ($i % 5 === 0) {
                    $keys = ['k' . mt_rand(0, 39), 'k' . mt_rand(0, 39), 'k' . mt_rand(0, 39)];
                    foreach ($pool->getItems($keys) as $k => $it) {
                        if ($it->isHit()) {
                            $hits++;
                            if (!validate($it->get(), (string) $k)) {
                                echo "bad value in getItems for {$k}\n";
                                $bad++;
                            }
                        }
                    }
                } else {
                    $it = $pool->getItem($key);
                    if ($it->isHit()) {
                        $hits++;
                        if (!validate($it->get(), $key)) {
                            echo "bad value for {$key}\n";
                            $bad++;
                        }
                    }
                }
            }
            echo "done bad={$bad} hits={$hits}\n";
            PHP;
        /** @var BackgroundProcess[] $children */
        $children = [];
        for ($w = 0; $w < 4; $w++) {
            $children[$w] = Php::start($code, ['dir' => $this->dir, 'worker' => $w]);
        }
        foreach ($children as $w => $child) {
            $r = $child->wait(60.0);
            $this->assertSame(0, $r->exitCode, "worker {$w}\n" . $r->describe());
            $this->assertSame('', $r->stderr, "worker {$w}\n" . $r->describe());
            $this->assertSame(1, preg_match('/^done bad=0 hits=\d+$/', trim($r->stdout)), "worker {$w}\n" . $r->describe());
        }
        $r = Php::run(self::VALIDATE . <<<'PHP'

            $pool = new LambdaCache\TmpCachePool(namespace: 'conc', directory: $dir);
            $hits = 0;
            for ($i = 0; $i < 40; $i++) {
                $it = $pool->getItem("k{$i}");
                if ($it->isHit()) {
                    $hits++;
                    if (!validate($it->get(), "k{$i}")) {
                        echo "bad k{$i}\n";
                    }
                }
            }
            echo "hits={$hits}";
            PHP, ['dir' => $this->dir]);
        $this->assertSame(1, preg_match('/^hits=([1-9]\d*)$/', $r->stdout), $r->describe());
    }

    public function testSigkilledWritersLeaveCompleteValuesOrMisses(): void
    {
        // The writer runs until it is killed, but never past 60 s nor once its parent (PHPUnit) is
        // gone, so that a dead test run leaves no writer behind.
        $writer = <<<'PHP'
            $parentPid = static function () use ($parent): int {
                if (function_exists('posix_getppid')) {
                    return posix_getppid();
                }
                $stat = (string) @file_get_contents('/proc/self/stat');
                return preg_match('/\)\s+\S+\s+(\d+)/', $stat, $m) === 1 ? (int) $m[1] : $parent;
            };
            $deadline = microtime(true) + 60.0;
            $pool = new LambdaCache\TmpCachePool(namespace: 'crash', directory: $dir);
            for ($i = 0; microtime(true) < $deadline && $parentPid() === $parent; $i++) {
                $payload = random_bytes(100000 + ($i % 5) * 50000);
                $value = ['round' => $round, 'i' => $i, 'payload' => $payload, 'sha' => sha1($payload)];
                if ($i % 4 === 3) {
                    $pool->saveDeferred($pool->getItem('c' . ($i % 20))->set($value));
                    $pool->saveDeferred($pool->getItem('c' . (($i + 7) % 20))->set($value));
                    $pool->commit();
                } else {
                    $pool->save($pool->getItem('c' . ($i % 20))->set($value));
                }
                if ($i === 2) {
                    echo "started\n";
                }
            }
            PHP;
        for ($round = 0; $round < 4; $round++) {
            $child = Php::start($writer, ['dir' => $this->dir, 'round' => $round, 'parent' => getmypid()]);
            if (!$child->waitForOutput('started', 20.0)) {
                $this->fail("round {$round}: the writer did not start\n" . $child->wait(1.0)->describe());
            }
            usleep(random_int(20_000, 250_000));
            $child->kill(9);
            $r = $child->wait(10.0);
            $this->assertSame(9, $r->termSignal, "round {$round}: the writer was not killed by SIGKILL\n" . $r->describe());
        }

        $check = <<<'PHP'
            $pool = new LambdaCache\TmpCachePool(namespace: 'crash', directory: $dir);
            $hits = 0;
            foreach ($pool->getItems(array_map(static fn ($i) => "c{$i}", range(0, 19))) as $key => $item) {
                if (!$item->isHit()) {
                    continue;
                }
                $v = $item->get();
                if (!is_array($v) || array_keys($v) !== ['round', 'i', 'payload', 'sha'] || sha1($v['payload']) !== $v['sha']
                    || !in_array(strlen($v['payload']), [100000, 150000, 200000, 250000, 300000], true)) {
                    echo "corrupt {$key}\n";
                }
                $hits++;
            }
            $ok = $pool->save($pool->getItem('after')->set('works'));
            echo "hits={$hits} saved=" . var_export($ok, true) . ' read=' . (new LambdaCache\TmpCachePool(namespace: 'crash', directory: $dir))->getItem('after')->get();
            PHP;
        $r = Php::run($check, ['dir' => $this->dir], [], 30.0);
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertSame('', $r->stderr, $r->describe());
        $this->assertSame(1, preg_match('/^hits=([1-9]\d*) saved=true read=works$/', $r->stdout), $r->describe());

        $pool = new TmpCachePool(namespace: 'crash', directory: $this->dir);
        $this->assertSame('works', $pool->getItem('after')->get());
        $this->assertTrue($pool->save($pool->getItem('after')->set('still works')));
    }

    public function testAForkedChildCanUseThePoolOfItsParent(): void
    {
        $code = <<<'PHP'
            $pool = new LambdaCache\TmpCachePool(namespace: 'fork', directory: $dir);
            $pool->save($pool->getItem('before')->set(1));
            $pid = pcntl_fork();
            if ($pid === 0) {
                $ok = $pool->getItem('before')->get() === 1 && $pool->save($pool->getItem('child')->set(2));
                exit($ok ? 0 : 3);
            }
            pcntl_waitpid($pid, $status);
            echo pcntl_wexitstatus($status), ' ', var_export($pool->getItem('child')->get(), true), ' ',
                var_export($pool->save($pool->getItem('parent-after')->set(3)), true);
            PHP;
        $r = Php::run($code, ['dir' => $this->dir], [], 30.0);
        $this->assertSame('0 2 true', $r->stdout, $r->describe());
        $this->assertSame('', $r->stderr, $r->describe());
    }

    public function testDefaultDirectoryIsLambdaCacheInTheSystemTempDirectory(): void
    {
        $tmp = TempDir::create('default-dir');
        try {
            $code = '$p = new LambdaCache\TmpCachePool(namespace: "d");'
                . 'echo sys_get_temp_dir(), "|", var_export($p->save($p->getItem("k")->set("v")), true);';
            $r = Php::run($code, [], ['TMPDIR' => $tmp]);
            $this->assertSame("{$tmp}|true", $r->stdout, $r->describe());
            clearstatcache();
            $this->assertSame(['lambda-cache'], TempDir::entries($tmp));
            $this->assertSame('0700', sprintf('%04o', fileperms("{$tmp}/lambda-cache") & 0777));
            $this->assertSame(['data.mdb', 'lock.mdb'], TempDir::entries("{$tmp}/lambda-cache"));
            $r = Php::run('echo (new LambdaCache\TmpCachePool(namespace: "d"))->getItem("k")->get();', [], ['TMPDIR' => $tmp]);
            $this->assertSame('v', $r->stdout, $r->describe());
        } finally {
            TempDir::remove($tmp);
        }
    }
}
