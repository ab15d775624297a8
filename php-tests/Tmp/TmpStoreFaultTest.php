<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\AbstractPool;
use LambdaCache\CacheException;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\ProcessResult;
use LambdaCache\Tests\Support\TempDir;
use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\TmpCachePool;
use PHPUnit\Framework\TestCase;

/**
 * The /tmp store under faults: a full filesystem, a daemonising fork, damaged files, directories
 * and files that are not ours, map sizes of other processes.
 */
final class TmpStoreFaultTest extends TestCase
{
    use TmpDirectoryFixture;

    /** Runs $code as root in a private mount namespace with a tmpfs of $size mounted on $mount. */
    private static function onTmpfs(string $mount, string $size, string $code, array $vars): ProcessResult
    {
        if (!is_dir($mount)) {
            mkdir($mount, 0700);
        }
        $prefix = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
            'mount -t tmpfs -o size=' . $size . ',mode=0700 tmpfs "$0" && exec "$@"', $mount];
        return Php::start($code, $vars + ['mount' => $mount], [], $prefix)->wait(60.0);
    }

    public function testAFullTwoMebibyteTmpfsFailsSavesAndKeepsReadsWorking(): void
    {
        $this->assertFullFilesystemIsSurvived('2m', 0);
    }

    public function testATmpfsFilledByAnotherFileFailsSavesAndKeepsReadsWorking(): void
    {
        $this->assertFullFilesystemIsSurvived('20m', 19 * 1024 * 1024);
    }

    public function testOpeningAStoreOnAFullFilesystemThrowsInsteadOfCrashing(): void
    {
        $code = <<<'PHP'
            $f = fopen("{$mount}/other", 'w');
            while (@fwrite($f, str_repeat("\x5a", 4096)) === 4096) {
            }
            fclose($f);
            try {
                new LambdaCache\TmpCachePool(namespace: 'full', directory: "{$mount}/store");
                echo 'opened';
            } catch (LambdaCache\CacheException $e) {
                echo $e->getMessage();
            }
            PHP;
        $r = self::onTmpfs($this->parentDir . '/mnt', '2m', $code, []);
        $this->assertNull($r->termSignal, $r->describe());
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertMatchesRegularExpression('/^LambdaCache: .*No space left on device/', $r->stdout, $r->describe());
    }

    /** Saves into a default-budget store on a tmpfs of $size, $filler bytes of it taken by another file. */
    private function assertFullFilesystemIsSurvived(string $size, int $filler): void
    {
        $code = <<<'PHP'
            $logger = new class {
                public array $messages = [];
                public function warning($message, array $context = []): void { $this->messages[] = (string) $message; }
            };
            $pool = new LambdaCache\TmpCachePool(namespace: 'full', directory: "{$mount}/store", logger: $logger);
            if ($filler > 0) {
                file_put_contents("{$mount}/other", str_repeat("\x5a", $filler));
            }
            $saved = [];
            $failed = 0;
            for ($i = 0; $i < 20000 && $failed < 5; $i++) {
                $value = ['i' => $i, 'payload' => str_repeat(chr(65 + $i % 26), 2000 + $i % 7 * 1000)];
                if ($pool->save($pool->getItem("k{$i}")->set($value))) {
                    $saved[] = $i;
                } else {
                    $failed++;
                }
            }
            // Reads of what was saved keep working (re-stamps of old hits want pages too).
            $hits = 0;
            $bad = 0;
            for ($round = 0; $round < 3; $round++) {
                foreach ($saved as $j) {
                    $item = $pool->getItem("k{$j}");
                    if ($item->isHit()) {
                        $hits++;
                        if ($item->get()['i'] !== $j) {
                            $bad++;
                        }
                    }
                }
            }
            $saved = count($saved);
            $fresh = (new LambdaCache\TmpCachePool(namespace: 'full', directory: "{$mount}/store"))->getItem('k0');
            echo json_encode(['saved' => $saved, 'failed' => $failed, 'hits' => $hits, 'bad' => $bad,
                'fresh' => $fresh->isHit(), 'messages' => array_slice(array_unique($logger->messages), 0, 3)]);
            PHP;
        $r = self::onTmpfs($this->parentDir . '/mnt', $size, $code, ['filler' => $filler]);
        $this->assertNull($r->termSignal, $r->describe());
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertSame('', $r->stderr, $r->describe());
        $out = json_decode($r->stdout, true);
        $this->assertIsArray($out, $r->describe());
        $this->assertGreaterThan(0, $out['saved'], $r->describe());
        $this->assertSame(5, $out['failed'], $r->describe());
        $this->assertSame(3 * $out['saved'], $out['hits'], $r->describe());
        $this->assertSame(0, $out['bad'], $r->describe());
        $this->assertTrue($out['fresh'], $r->describe());
        $this->assertNotSame([], $out['messages'], $r->describe());
        foreach ($out['messages'] as $message) {
            $this->assertMatchesRegularExpression('/^LambdaCache: .*(No space left on device|ENOSPC)/', $message, $r->describe());
        }
    }

    public function testADaemonisedChildAndNewcomersShareTheStoreAfterTheParentExits(): void
    {
        $report = $this->parentDir . '/child-report.json';
        $daemon = <<<'PHP'
            $pool = new LambdaCache\TmpCachePool(namespace: 'daemon', directory: $dir);
            $pool->save($pool->getItem('parent')->set('was here'));
            $pid = pcntl_fork();
            if ($pid !== 0) {
                // The parent exits at once, as a daemonising parent does.
                echo "child={$pid}\n";
                exit(0);
            }
            $problems = [];
            $deadline = microtime(true) + $seconds;
            $inherited = $pool;
            $i = 0;
            for (; microtime(true) < $deadline && $i < 40000; $i++) {
                $pool = $i % 2 === 0 ? $inherited : new LambdaCache\TmpCachePool(namespace: 'daemon', directory: $dir);
                $value = ['i' => $i, 'blob' => str_repeat('c', 100 + $i % 50)];
                if (!$pool->save($pool->getItem("c{$i}")->set($value))) {
                    $problems[] = "save c{$i} failed";
                }
                if ($pool->getItem("c{$i}")->get() !== $value) {
                    $problems[] = "c{$i} does not read back";
                }
                if ($i % 20 === 0 && $pool->getItem('parent')->get() !== 'was here') {
                    $problems[] = "parent's key lost at {$i}";
                }
            }
            file_put_contents($report, json_encode(['written' => $i, 'problems' => array_slice($problems, 0, 10)]));
            PHP;
        $newcomer = <<<'PHP'
            $problems = [];
            for ($i = 0; $i < 50; $i++) {
                $pool = new LambdaCache\TmpCachePool(namespace: 'daemon', directory: $dir);
                if (!$pool->save($pool->getItem("n{$n}-{$i}")->set($i)) || $pool->getItem("n{$n}-{$i}")->get() !== $i) {
                    $problems[] = "own key n{$n}-{$i}";
                }
                if ($pool->getItem('parent')->get() !== 'was here') {
                    $problems[] = "parent's key lost";
                }
                foreach ($pool->getItems(['c0', 'c1', 'c2']) as $key => $item) {
                    if ($item->isHit() && ($item->get()['blob'] ?? null) !== str_repeat('c', 100 + (int) substr($key, 1) % 50)) {
                        $problems[] = "bad {$key}";
                    }
                }
                unset($pool);
            }
            echo json_encode(array_slice($problems, 0, 10));
            PHP;
        $r = Php::run($daemon, ['dir' => $this->dir, 'seconds' => 6.0, 'report' => $report]);
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertSame(1, preg_match('/^child=(\d+)$/', trim($r->stdout), $m), $r->describe());
        $child = (int) $m[1];
        // LMDB tells live users of an environment by fcntl() locks on lock.mdb, which fork() does
        // not pass on: the child must hold its own, or the next process to open the directory
        // takes the environment for unused and initialises the lock region under the child.
        $deadline = microtime(true) + 10.0;
        while (!($locked = self::holdsLock($child, $this->dir . '/lock.mdb')) && microtime(true) < $deadline) {
            usleep(20000);
        }
        $this->assertTrue($locked, 'the daemonised child holds no lock on lock.mdb');
        // Each newcomer process opens the environment once: many of them, while the child writes.
        for ($round = 0; $round < 8; $round++) {
            $newcomers = [];
            for ($n = 0; $n < 3; $n++) {
                $newcomers[] = Php::start($newcomer, ['dir' => $this->dir, 'n' => $round * 3 + $n]);
            }
            foreach ($newcomers as $n => $p) {
                $nr = $p->wait(60.0);
                $this->assertSame(0, $nr->exitCode, "newcomer {$round}/{$n}\n" . $nr->describe());
                $this->assertSame('', $nr->stderr, $nr->describe());
                $this->assertSame('[]', $nr->stdout, $nr->describe());
            }
        }
        $deadline = microtime(true) + 30.0;
        while (!is_file($report) && microtime(true) < $deadline && file_exists("/proc/{$child}")) {
            usleep(50000);
        }
        $this->assertFileExists($report, 'the daemonised child died or did not finish');
        $out = json_decode((string) file_get_contents($report), true);
        $this->assertSame([], $out['problems']);
        $this->assertGreaterThan(10, $out['written']);

        $pool = new TmpCachePool(namespace: 'daemon', directory: $this->dir);
        $missing = [];
        for ($i = 0; $i < $out['written']; $i++) {
            if (($pool->getItem("c{$i}")->get()['i'] ?? null) !== $i) {
                $missing[] = "c{$i}";
            }
        }
        $this->assertSame([], array_slice($missing, 0, 10), count($missing) . ' keys lost');
        $this->assertSame('was here', $pool->getItem('parent')->get());
    }

    public function testATruncatedDataFileIsResetByTheNextProcess(): void
    {
        $fill = '$p = new LambdaCache\TmpCachePool(namespace: "t", directory: $dir);'
            . 'for ($i = 0; $i < 400; $i++) { $p->save($p->getItem("k{$i}")->set(str_repeat("x", 5000))); } echo "ok";';
        $r = Php::run($fill, ['dir' => $this->dir]);
        $this->assertSame('ok', $r->stdout, $r->describe());
        $h = fopen($this->dir . '/data.mdb', 'r+');
        $this->assertTrue(ftruncate($h, 65536));
        fclose($h);

        $use = '$p = new LambdaCache\TmpCachePool(namespace: "t", directory: $dir, strict: true);'
            . '$p->getItem("k1"); $p->getItem("k399");'
            . 'var_export($p->save($p->getItem("after")->set("works")));'
            . 'echo " ", $p->getItem("after")->get();';
        $r = Php::run($use, ['dir' => $this->dir]);
        $this->assertSame('true works', $r->stdout, $r->describe());
        $this->assertSame('', $r->stderr, $r->describe());
        $r = Php::run('$p = new LambdaCache\TmpCachePool(namespace: "t", directory: $dir, strict: true); echo $p->getItem("after")->get();', ['dir' => $this->dir]);
        $this->assertSame('works', $r->stdout, $r->describe());
    }

    /** The constructor of a pool on $directory throws a CacheException that names $why. */
    private function assertRefused(string $directory, string $why): void
    {
        try {
            new TmpCachePool(namespace: 'safe', directory: $directory);
            $this->fail("a pool on {$directory} was opened");
        } catch (CacheException $e) {
            $this->assertStringContainsString($why, $e->getMessage());
            $this->assertInstanceOf(\LambdaCache\Native\StoreException::class, $e->getPrevious());
        }
    }

    public function testADirectoryThatIsASymlinkIsRefusedAndItsTargetLeftAlone(): void
    {
        $victim = $this->parentDir . '/victim';
        mkdir($victim, 0755);
        chmod($victim, 0755);
        file_put_contents($victim . '/precious', 'x');
        symlink($victim, $this->dir);
        $this->assertRefused($this->dir, 'symlink');
        clearstatcache();
        $this->assertSame(0755, fileperms($victim) & 0777);
        $this->assertSame(['precious'], TempDir::entries($victim));
    }

    public function testADirectoryCreatedByAnotherUserIsRefused(): void
    {
        chmod($this->parentDir, 0777);
        $r = Php::start('mkdir($dir, 0700); echo fileowner($dir);', ['dir' => $this->dir], [],
            ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'])->wait(30.0);
        $this->assertSame('65534', $r->stdout, $r->describe());
        $this->assertRefused($this->dir, 'not owned by');
        $this->assertSame([], TempDir::entries($this->dir));
    }

    public function testADirectoryWritableByGroupOrOthersIsRefused(): void
    {
        mkdir($this->dir);
        foreach ([0770, 0707, 0777] as $mode) {
            chmod($this->dir, $mode);
            $this->assertRefused($this->dir, 'writable by');
            $this->assertSame([], TempDir::entries($this->dir));
        }
    }

    public function testStoreFilesThatAreSymlinksOrNotOursAreRefused(): void
    {
        $victim = $this->parentDir . '/victim.txt';
        file_put_contents($victim, 'precious');
        mkdir($this->dir, 0700);
        symlink($victim, $this->dir . '/data.mdb');
        $this->assertRefused($this->dir, 'symlink');
        $this->assertSame('precious', file_get_contents($victim));
        unlink($this->dir . '/data.mdb');

        $dir2 = $this->parentDir . '/store2';
        mkdir($dir2, 0700);
        touch($dir2 . '/lock.mdb');
        chown($dir2 . '/lock.mdb', 65534);
        $this->assertRefused($dir2, 'not owned by');

        $dir3 = $this->parentDir . '/store3';
        mkdir($dir3, 0700);
        touch($dir3 . '/data.mdb');
        chmod($dir3 . '/data.mdb', 0666);
        $this->assertRefused($dir3, 'writable by');
    }

    public function testAProcessWithASmallerMaxBytesAdoptsTheLargerMapOfAnother(): void
    {
        $small = new TmpCachePool(namespace: 'map', directory: $this->dir, maxBytes: 1 << 20, strict: true);
        $this->assertTrue($small->save($small->getItem('small')->set(1)));
        $r = Php::run(
            '$p = new LambdaCache\TmpCachePool(namespace: "map", directory: $dir, maxBytes: 64 << 20);'
            . 'for ($i = 0; $i < 300; $i++) { $p->save($p->getItem("big{$i}")->set(str_repeat("b", 10000))); }'
            . 'echo $p->getItem("small")->get();',
            ['dir' => $this->dir]
        );
        $this->assertSame('1', $r->stdout, $r->describe());
        $this->assertSame(str_repeat('b', 10000), $small->getItem('big299')->get());
        $this->assertTrue($small->save($small->getItem('small')->set(2)));
        $stats = $small->stats();
        $this->assertSame(64 << 20, $stats['max_bytes']);
        $this->assertGreaterThan(300, $stats['entries']);
    }

    public function testAPoolReachesAnOpenDirectoryThroughARelativePathOrASymlinkedParent(): void
    {
        $pool = new TmpCachePool(namespace: 'paths', directory: $this->dir);
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')));
        $cwd = getcwd();
        chdir($this->parentDir);
        try {
            $relative = new TmpCachePool(namespace: 'paths', directory: 'store');
            $this->assertSame('v', $relative->getItem('k')->get());
            $this->assertSame('v', (new TmpCachePool(namespace: 'paths', directory: './store/../store/'))->getItem('k')->get());
        } finally {
            chdir($cwd);
        }
        $link = $this->parentDir . '/link';
        symlink($this->parentDir, $link);
        $linked = new TmpCachePool(namespace: 'paths', directory: $link . '/store');
        $this->assertSame('v', $linked->getItem('k')->get());
        $this->assertTrue($linked->save($linked->getItem('k2')->set('v2')));
        $this->assertSame('v2', $pool->getItem('k2')->get());
    }

    public function testADirectoryNameNeedNotBeUtf8(): void
    {
        $dir = $this->parentDir . "/st\xff\xfeore";
        $pool = new TmpCachePool(namespace: 'bytes', directory: $dir);
        $this->assertTrue($pool->save($pool->getItem('k')->set('v')));
        $this->assertFileExists($dir . '/data.mdb');
        $r = Php::run('echo (new LambdaCache\TmpCachePool(namespace: "bytes", directory: $dir))->getItem("k")->get();', ['dir' => $dir]);
        $this->assertSame('v', $r->stdout, $r->describe());
    }

    public function testANamespaceThatIsNotUtf8IsAnInvalidArgument(): void
    {
        foreach (["ns\xff", "\xc3"] as $namespace) {
            try {
                new TmpCachePool(namespace: $namespace, directory: $this->dir);
                $this->fail('a namespace of invalid UTF-8 was accepted');
            } catch (\LambdaCache\InvalidArgumentException $e) {
                $this->assertStringContainsString('namespace', $e->getMessage());
                $this->assertInstanceOf(\LambdaCache\Native\InvalidArgumentException::class, $e->getPrevious());
            }
        }
    }

    public function testAStatsFailureIsReportedAndAnswersAnEmptyArray(): void
    {
        $failing = static fn () => new class {
            public function stats(): array
            {
                throw new \RuntimeException('storage error: MDB_MAP_RESIZED');
            }
        };
        $logger = new TestLogger();
        $pool = new class ($failing, $logger, false) extends AbstractPool {
            public function __construct(\Closure $open, ?object $logger, bool $strict)
            {
                parent::__construct($open, 0, $logger, $strict);
            }
        };
        $this->assertSame([], $pool->stats());
        $this->assertSame(['LambdaCache: storage error: MDB_MAP_RESIZED'], $logger->warnings());

        $strict = new class ($failing, null, true) extends AbstractPool {
            public function __construct(\Closure $open, ?object $logger, bool $strict)
            {
                parent::__construct($open, 0, $logger, $strict);
            }
        };
        $this->expectException(CacheException::class);
        $strict->stats();
    }

    /** Whether process $pid holds an fcntl() lock on $file (from /proc/locks). */
    private static function holdsLock(int $pid, string $file): bool
    {
        $ino = fileinode($file);
        foreach (file('/proc/locks') ?: [] as $line) {
            $f = preg_split('/\s+/', trim($line));
            // "1: POSIX  ADVISORY  READ 1234 00:2a:5678 0 0"; blocked requests have "->" first.
            if (($f[1] ?? '') === 'POSIX' && (int) $f[4] === $pid && (int) explode(':', $f[5])[2] === $ino) {
                return true;
            }
        }
        return false;
    }
}
