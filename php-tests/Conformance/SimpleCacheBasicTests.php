<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

/** PSR-16 single-key calls, clear and namespaces (docs/platform.md §3.3, §3.8, §3.9). */
trait SimpleCacheBasicTests
{
    public function testGetReturnsTheDefaultOnMissOnly(): void
    {
        $cache = $this->createCache();
        $this->assertNull($cache->get('missing'));
        $this->assertSame('default', $cache->get('missing', 'default'));
        $this->assertSame(['d'], $cache->get('missing', ['d']));
        $this->assertFalse($cache->has('missing'));

        foreach (['null' => null, 'false' => false, 'zero' => 0, 'empty' => '', 'empty-array' => []] as $key => $value) {
            $this->assertTrue($cache->set($key, $value), "set {$key}");
        }
        foreach ([$cache, $this->createCache()] as $c) {
            foreach (['null' => null, 'false' => false, 'zero' => 0, 'empty' => '', 'empty-array' => []] as $key => $value) {
                $this->assertSame($value, $c->get($key, 'default'), "{$key} is a hit, not the default");
                $this->assertTrue($c->has($key), "has({$key})");
            }
        }
    }

    public function testSetOverwritesAndDeleteRemoves(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->set('k', 'old'));
        $this->assertTrue($cache->set('k', 'new'));
        $this->assertSame('new', $cache->get('k'));
        $this->assertSame('new', $this->createCache()->get('k'));
        $this->assertTrue($cache->delete('k'));
        $this->assertFalse($cache->has('k'));
        $this->assertSame('gone', $this->createCache()->get('k', 'gone'));
    }

    public function testDeletingMissingKeysIsSuccess(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->delete('never-set'));
        $this->assertTrue($cache->deleteMultiple(['never-set', 'also-never']));
        $this->assertTrue($cache->deleteMultiple([]));
    }

    public function testClearRemovesEverythingInItsNamespaceOnly(): void
    {
        $cache = $this->createCache('one');
        $other = $this->createCache('two');
        $this->assertTrue($cache->clear());
        $this->assertTrue($cache->set('a', 1));
        $this->assertTrue($cache->set('b', 2));
        $this->assertTrue($other->set('a', 'other'));
        $this->assertTrue($cache->clear());
        $this->assertFalse($cache->has('a'));
        $this->assertNull($this->createCache('one')->get('b'));
        $this->assertSame('other', $other->get('a'));
        $this->assertSame('other', $this->createCache('two')->get('a'));
        $this->assertTrue($cache->set('a', 'again'));
        $this->assertSame('again', $cache->get('a'));
    }

    public function testNamespacesAreIndependent(): void
    {
        $one = $this->createCache('one');
        $two = $this->createCache('two');
        $prefix = $this->createCache('on');
        $this->assertTrue($one->set('k', 1));
        $this->assertTrue($two->set('k', 2));
        $this->assertTrue($prefix->set('ek', 'prefix'));
        $this->assertSame(1, $one->get('k'));
        $this->assertSame(2, $two->get('k'));
        $this->assertFalse($prefix->has('k'));
        $this->assertFalse($one->has('ek'));
        $this->assertTrue($two->delete('k'));
        $this->assertSame(1, $one->get('k'));
        $this->assertTrue($prefix->clear());
        $this->assertSame(1, $this->createCache('one')->get('k'));
    }

    public function testCachesOverTheSamePoolShareEntries(): void
    {
        $pool = $this->createPool();
        $cache = new \LambdaCache\Psr16Cache($pool);
        $this->assertTrue($cache->set('k', 'through PSR-16'));
        $this->assertSame('through PSR-16', $pool->getItem('k')->get());
        $this->assertTrue($pool->save($pool->getItem('p')->set('through PSR-6')));
        $this->assertSame('through PSR-6', $cache->get('p'));
    }
}
