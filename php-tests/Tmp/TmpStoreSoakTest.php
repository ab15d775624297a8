<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Support\BackgroundProcess;
use LambdaCache\Tests\Support\Php;
use LambdaCache\TmpCachePool;
use PHPUnit\Framework\Attributes\Group;
use PHPUnit\Framework\TestCase;

/**
 * Long runs of the /tmp store, in the group "soak": excluded from the default runs of
 * phpunit.xml.dist and phpunit-11.xml.dist, run once by `make test` (`make test-tmp-soak`).
 */
final class TmpStoreSoakTest extends TestCase
{
    use TmpDirectoryFixture;

    private const SECONDS = 60.0;
    private const WRITERS = 8;

    /**
     * Eight writers on the default budget, one of them killed with SIGKILL every 50-300 ms and
     * replaced, for a minute: no value read is wrong, and no writer dies of anything else.
     *
     * @group soak
     */
    #[Group('soak')]
    public function testWritersKilledInALoopLeaveNoWrongValueAndNoCrash(): void
    {
        $writer = <<<'PHP'
            $pool = new LambdaCache\TmpCachePool(namespace: 'soak', directory: $dir);
            mt_srand($seed);
            $bad = 0;
            $reads = 0;
            echo "started\n";
            for ($i = 0; !is_file($stop); $i++) {
                $key = 'k' . mt_rand(0, 199);
                if ($i % 3 === 0) {
                    // 100 B to 400 KB: the store fills and evicts.
                    $payload = random_bytes(mt_rand(0, 9) === 0 ? mt_rand(100000, 400000) : mt_rand(100, 5000));
                    $value = ['key' => $key, 'payload' => $payload, 'sha' => sha1($payload)];
                    if ($i % 2 === 0) {
                        $pool->save($pool->getItem($key)->set($value));
                    } else {
                        $pool->saveDeferred($pool->getItem($key)->set($value));
                        $pool->saveDeferred($pool->getItem('k' . mt_rand(0, 199))->set(null));
                        $pool->commit();
                    }
                } else {
                    foreach ($pool->getItems([$key, 'k' . mt_rand(0, 199)]) as $k => $item) {
                        if (!$item->isHit() || $item->get() === null) {
                            continue;
                        }
                        $reads++;
                        $v = $item->get();
                        if (!is_array($v) || ($v['key'] ?? null) !== $k || sha1($v['payload']) !== $v['sha']) {
                            echo "bad value under {$k}\n";
                            $bad++;
                        }
                    }
                }
            }
            echo "done bad={$bad} reads={$reads}\n";
            PHP;
        $stop = $this->parentDir . '/stop';
        $start = fn (int $seed): BackgroundProcess => Php::start($writer, ['dir' => $this->dir, 'stop' => $stop, 'seed' => $seed]);
        /** @var BackgroundProcess[] $writers */
        $writers = [];
        $seed = 0;
        for ($w = 0; $w < self::WRITERS; $w++) {
            $writers[$w] = $start(++$seed);
        }
        $killed = 0;
        $deadline = microtime(true) + self::SECONDS;
        while (microtime(true) < $deadline) {
            usleep(random_int(50_000, 300_000));
            $w = random_int(0, self::WRITERS - 1);
            $victim = $writers[$w];
            if (!$victim->waitForOutput('started', 20.0)) {
                $this->fail("a writer did not start\n" . $victim->wait(1.0)->describe());
            }
            $victim->kill(9);
            $r = $victim->wait(10.0);
            $this->assertSame(9, $r->termSignal, "a writer died before it was killed\n" . $r->describe());
            $this->assertStringNotContainsString('bad value', $r->stdout, $r->describe());
            $this->assertSame('', $r->stderr, $r->describe());
            $killed++;
            $writers[$w] = $start(++$seed);
        }
        touch($stop);
        foreach ($writers as $w => $p) {
            $r = $p->wait(60.0);
            $this->assertSame(0, $r->exitCode, "survivor {$w}\n" . $r->describe());
            $this->assertSame('', $r->stderr, "survivor {$w}\n" . $r->describe());
            $this->assertSame(1, preg_match('/done bad=0 reads=\d+$/', trim($r->stdout)), "survivor {$w}\n" . $r->describe());
        }
        $this->assertGreaterThan(100, $killed);

        $pool = new TmpCachePool(namespace: 'soak', directory: $this->dir, strict: true);
        foreach ($pool->getItems(array_map(static fn ($i) => "k{$i}", range(0, 199))) as $k => $item) {
            $v = $item->get();
            if ($v !== null) {
                $this->assertSame($k, $v['key']);
                $this->assertSame($v['sha'], sha1($v['payload']));
            }
        }
        $this->assertTrue($pool->save($pool->getItem('after')->set('works')));
    }
}
