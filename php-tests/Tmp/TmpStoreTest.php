<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TempDir;
use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\TmpCachePool;
use PHPUnit\Framework\TestCase;

/** The /tmp store on disk: files, permissions, stats, corruption, oversized values. */
final class TmpStoreTest extends TestCase
{
    use TmpDirectoryFixture;

    private const MIB = 1048576;

    public function testDirectoryIsPrivateAndHoldsOnlyTheStoreFiles(): void
    {
        $old = umask(0);
        try {
            $pool = $this->createPool();
            $this->assertTrue($pool->save($pool->getItem('k')->set('v')));
        } finally {
            umask($old);
        }
        clearstatcache();
        $this->assertTrue(is_dir($this->dir), 'the pool did not create its directory');
        $this->assertSame('0700', sprintf('%04o', fileperms($this->dir) & 0777), 'directory mode');
        $this->assertSame(['data.mdb', 'lock.mdb'], TempDir::entries($this->dir));
        foreach (['data.mdb', 'lock.mdb'] as $file) {
            $this->assertSame('0600', sprintf('%04o', fileperms("{$this->dir}/{$file}") & 0777), "{$file} mode");
        }
    }

    public function testKeysNeverCreateFilesOutsideTheStore(): void
    {
        $pool = $this->createPool();
        $keys = ['..', '...', '.', '..%2F..%2Fescape', '%2e%2e', 'escape', "..\0", 'data.mdb', 'lock.mdb', '~', '-rf',
            str_repeat('.', 300), "..\u{2215}x", "\u{FF0F}etc", "..\u{2044}x", "..\xc0\xafx"];
        foreach ($keys as $key) {
            $this->assertTrue($pool->save($pool->getItem($key)->set($key)), 'save ' . json_encode($key, JSON_INVALID_UTF8_SUBSTITUTE));
        }
        $reader = $this->createPool();
        foreach ($keys as $key) {
            $this->assertSame($key, $reader->getItem($key)->get());
        }
        $this->assertSame(['data.mdb', 'lock.mdb'], TempDir::entries($this->dir));
        $this->assertSame(['store'], TempDir::entries($this->parentDir));
    }

    public function testStatsCountEntriesAndBytes(): void
    {
        $pool = new TmpCachePool(namespace: 'stats', directory: $this->dir, maxBytes: 8 * self::MIB);
        $stats = $pool->stats();
        foreach (['entries', 'bytes_used', 'max_bytes'] as $key) {
            $this->assertArrayHasKey($key, $stats);
            $this->assertTrue(is_int($stats[$key]), "stats()['{$key}'] is an int");
        }
        $this->assertSame(8 * self::MIB, $stats['max_bytes']);
        $this->assertSame(0, $stats['entries']);
        foreach (['a', 'b', 'c'] as $key) {
            $this->assertTrue($pool->save($pool->getItem($key)->set(str_repeat($key, 1000))));
        }
        $stats = $pool->stats();
        $this->assertSame(3, $stats['entries']);
        $this->assertTrue($stats['bytes_used'] >= 3000, 'bytes_used counts the values');
        $this->assertTrue($stats['bytes_used'] <= $stats['max_bytes']);
        $this->assertTrue($pool->deleteItem('a'));
        $this->assertSame(2, $pool->stats()['entries']);
        $this->assertTrue($pool->clear());
        $this->assertSame(0, $pool->stats()['entries']);
    }

    public function testDefaultMaxBytesIs128MiB(): void
    {
        $pool = new TmpCachePool(directory: $this->dir);
        $this->assertSame(128 * self::MIB, $pool->stats()['max_bytes']);
    }

    public function testValueLargerThanTheBudgetFailsCleanly(): void
    {
        $logger = new TestLogger();
        $pool = new TmpCachePool(namespace: 'big', directory: $this->dir, maxBytes: self::MIB, logger: $logger);
        $this->assertTrue($pool->save($pool->getItem('small')->set('kept')));
        $this->assertTrue($pool->save($pool->getItem('big')->set('previous')));
        $this->assertFalse($pool->save($pool->getItem('big')->set(random_bytes(2 * self::MIB))), 'a value larger than maxBytes was saved');
        $this->assertTrue(count($logger->warnings()) > 0, 'the refused save was not reported');
        $this->assertSame('kept', $pool->getItem('small')->get());
        $this->assertNotSame(2 * self::MIB, strlen((string) $pool->getItem('big')->get()));
        $this->assertTrue($pool->save($pool->getItem('after')->set('works')));
        $this->assertSame('works', (new TmpCachePool(namespace: 'big', directory: $this->dir, maxBytes: self::MIB))->getItem('after')->get());
        $this->assertTrue($pool->stats()['bytes_used'] <= self::MIB);
    }

    public function testCorruptedDataFileIsDetectedAndTheStoreRecoversEmpty(): void
    {
        $write = <<<'PHP'
            $pool = new LambdaCache\TmpCachePool(namespace: 'c', directory: $dir);
            for ($i = 0; $i < 200; $i++) {
                if (!$pool->save($pool->getItem("k{$i}")->set(str_repeat('x', 1000)))) {
                    exit(3);
                }
            }
            echo 'written';
            PHP;
        $check = <<<'PHP'
            $logger = new class {
                public array $messages = [];
                public function warning($message, array $context = []): void { $this->messages[] = (string) $message; }
            };
            $pool = new LambdaCache\TmpCachePool(namespace: 'c', directory: $dir, logger: $logger);
            $item = $pool->getItem('k1');
            $many = $pool->getItems(['k0', 'k2']);
            $manyHits = 0;
            foreach ($many as $it) { $manyHits += $it->isHit() ? 1 : 0; }
            $saved = $pool->save($pool->getItem('after')->set('works'));
            $other = new LambdaCache\TmpCachePool(namespace: 'c', directory: $dir);
            echo json_encode(['hit' => $item->isHit(), 'manyHits' => $manyHits, 'saved' => $saved,
                'read' => $other->getItem('after')->get(), 'reports' => $logger->messages]);
            PHP;
        $corruptions = [
            'whole file random' => static fn (string $f) => file_put_contents($f, random_bytes(max(65536, filesize($f)))),
            'meta pages random' => static function (string $f): void {
                $h = fopen($f, 'r+');
                fwrite($h, random_bytes(8192));
                fclose($h);
            },
            'short garbage' => static fn (string $f) => file_put_contents($f, str_repeat("garbage\0", 13)),
            'empty file' => static fn (string $f) => file_put_contents($f, ''),
        ];
        foreach ($corruptions as $label => $corrupt) {
            $dir = TempDir::create('corrupt');
            try {
                $r = Php::run($write, ['dir' => $dir]);
                $this->assertSame('written', $r->stdout, "{$label}: writer\n" . $r->describe());
                clearstatcache();
                $corrupt("{$dir}/data.mdb");
                $r = Php::run($check, ['dir' => $dir], [], 30.0);
                $this->assertSame(0, $r->exitCode, "{$label}: the store crashed on a corrupted file\n" . $r->describe());
                $this->assertSame('', $r->stderr, "{$label}: " . $r->describe());
                $out = json_decode($r->stdout, true);
                $this->assertTrue(is_array($out), "{$label}: " . $r->describe());
                $this->assertFalse($out['hit'], "{$label}: read from a corrupted file");
                $this->assertSame(0, $out['manyHits'], "{$label}: getItems read from a corrupted file");
                $this->assertTrue($out['saved'], "{$label}: the store does not work after recovery\n" . $r->describe());
                $this->assertSame('works', $out['read'], "{$label}: " . $r->describe());
                $r = Php::run('echo json_encode((new LambdaCache\TmpCachePool(namespace: "c", directory: $dir))->getItem("after")->get());', ['dir' => $dir]);
                $this->assertSame('"works"', $r->stdout, "{$label}: the recovered store did not persist\n" . $r->describe());
            } finally {
                TempDir::remove($dir);
            }
        }
    }
}
