<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\Tests\Support\WakeupSpy;
use Psr\Cache\CacheItemPoolInterface;

/**
 * integrityKey: with one, an entry that was changed in the store, or written with another key or
 * none, is a miss that is reported and never reaches unserialize() (no __wakeup()), whatever
 * allowedClasses lets through. A concrete test case says how to make a pool with a key and how to
 * change stored bytes behind the pool's back.
 */
trait PoolIntegrityTests
{
    private const SECRET = 'integrity-secret-0123456789abcdef';

    /** A pool on this test's storage with allowedClasses at its default and $integrityKey. */
    abstract protected function keyedPool(string $namespace, ?string $integrityKey, ?object $logger = null): CacheItemPoolInterface;

    /** Replaces $search with $replace (same length) in every stored entry; returns how many changed. */
    abstract protected function changeStoredBytes(string $search, string $replace): int;

    public function testAKeyedPoolRoundTripsObjects(): void
    {
        $writer = $this->keyedPool('keyed', self::SECRET);
        $date = new \DateTimeImmutable('2024-02-29 12:34:56.789', new \DateTimeZone('Europe/Paris'));
        $this->assertTrue($writer->save($writer->getItem('date')->set($date)));
        $this->assertTrue($writer->save($writer->getItem('spy')->set(new WakeupSpy('kept'))));
        $this->assertTrue($writer->save($writer->getItem('plain')->set(['a' => 1])));
        $reader = $this->keyedPool('keyed', self::SECRET, $logger = new TestLogger());
        $this->assertEquals($date, $reader->getItem('date')->get());
        WakeupSpy::$wakeups = 0;
        $this->assertEquals(new WakeupSpy('kept'), $reader->getItem('spy')->get());
        $this->assertSame(1, WakeupSpy::$wakeups, 'reading a genuine entry runs __wakeup() once');
        $items = Items::toArray($reader->getItems(['plain', 'spy']));
        $this->assertSame(['a' => 1], $items['plain']->get());
        $this->assertEquals(new WakeupSpy('kept'), $items['spy']->get());
        $this->assertSame([], $logger->warnings());
    }

    public function testATamperedEntryIsAMissThatNeverWakesAnObject(): void
    {
        $writer = $this->keyedPool('tamper', self::SECRET);
        $this->assertTrue($writer->save($writer->getItem('spy')->set(new WakeupSpy('original-marker'))));
        $this->assertTrue($writer->save($writer->getItem('spy2')->set(new WakeupSpy('original-marker'))));
        $this->assertTrue($writer->save($writer->getItem('spy3')->set(new WakeupSpy('original-marker'))));
        // A pool that read the entry before the change (and so knows its bytes as verified).
        $early = $this->keyedPool('tamper', self::SECRET, $earlyLogger = new TestLogger());
        $this->assertEquals(new WakeupSpy('original-marker'), $early->getItem('spy3')->get());
        $this->assertGreaterThanOrEqual(3, $this->changeStoredBytes('original-marker', 'tampered-marker'), 'the test did not change the stored entries');

        // Without the key the change goes through (what the key is for).
        WakeupSpy::$wakeups = 0;
        $unkeyed = Items::toArray($this->keyedPool('tamper', '')->getItems(['spy', 'spy2']));
        $this->assertEquals(new WakeupSpy('tampered-marker'), $unkeyed['spy']->get());
        $this->assertEquals(new WakeupSpy('tampered-marker'), $unkeyed['spy2']->get());
        $this->assertSame(2, WakeupSpy::$wakeups);

        WakeupSpy::$wakeups = 0;
        $reader = $this->keyedPool('tamper', self::SECRET, $logger = new TestLogger());
        $item = $reader->getItem('spy');
        $this->assertFalse($item->isHit(), 'a changed entry was a hit');
        $this->assertNull($item->get());
        $logger->assertReported('getItem() of a changed entry');
        $logger->reset();
        $this->assertFalse(Items::toArray($reader->getItems(['spy2']))['spy2']->isHit(), 'getItems(): a changed entry was a hit');
        $logger->assertReported('getItems() of a changed entry');
        $this->assertFalse($early->getItem('spy3')->isHit(), 'a changed entry was a hit for a pool that had read it before');
        $earlyLogger->assertReported('getItem() of an entry changed after a read');
        $this->assertSame(0, WakeupSpy::$wakeups, 'a changed entry reached unserialize()');

        // The pool still works for what it writes itself.
        $this->assertTrue($reader->save($reader->getItem('spy')->set(new WakeupSpy('again'))));
        $this->assertEquals(new WakeupSpy('again'), $this->keyedPool('tamper', self::SECRET)->getItem('spy')->get());
    }

    public function testAForeignEntryIsAMissThatNeverWakesAnObject(): void
    {
        $none = $this->keyedPool('foreign', '');
        $other = $this->keyedPool('foreign', 'another-secret-0123456789abcdef');
        $this->assertTrue($none->save($none->getItem('none')->set(new WakeupSpy('no key'))));
        $this->assertTrue($other->save($other->getItem('other')->set(new WakeupSpy('other key'))));
        $this->assertTrue($other->save($other->getItem('plain')->set('other key, no object')));
        WakeupSpy::$wakeups = 0;
        $reader = $this->keyedPool('foreign', self::SECRET, $logger = new TestLogger());
        foreach (['none', 'other', 'plain'] as $key) {
            $this->assertFalse($reader->getItem($key)->isHit(), "{$key}: a foreign entry was a hit");
            $logger->assertReported($key);
            $logger->reset();
        }
        $this->assertTrue($other->save($other->getItem('plain')->set('written again')));
        $this->assertTrue($none->save($none->getItem('none')->set(new WakeupSpy('no key'))));
        WakeupSpy::$wakeups = 0;
        $items = Items::toArray($reader->getItems(['none', 'plain']));
        $this->assertFalse($items['none']->isHit() || $items['plain']->isHit(), 'getItems(): a foreign entry was a hit');
        $this->assertCount(2, $logger->warnings());
        $this->assertSame(0, WakeupSpy::$wakeups, 'a foreign entry reached unserialize()');
    }

    public function testAnEntryMovedToAnotherKeyIsAMiss(): void
    {
        $writer = $this->keyedPool('moved', self::SECRET);
        $this->assertTrue($writer->save($writer->getItem('source-key')->set('the value')));
        // A key of the same length, so only the MAC tells them apart.
        $this->assertGreaterThanOrEqual(1, $this->changeStoredBytes('source-key', 'target-key'));
        $this->assertSame('the value', $this->keyedPool('moved', '')->getItem('target-key')->get(), 'the entry was not moved');
        $reader = $this->keyedPool('moved', self::SECRET, $logger = new TestLogger());
        $this->assertFalse($reader->getItem('target-key')->isHit(), 'an entry moved to another key was a hit');
        $logger->assertReported('moved entry');
    }

    public function testTheIntegrityKeyComesFromTheEnvironmentAndMustBeLongEnough(): void
    {
        $keyed = $this->keyedPool('env', self::SECRET);
        $this->assertTrue($keyed->save($keyed->getItem('tagged')->set('v')));
        $none = $this->keyedPool('env', '');
        $this->assertTrue($none->save($none->getItem('untagged')->set('u')));
        putenv('LAMBDA_CACHE_INTEGRITY_KEY=' . self::SECRET);
        try {
            $this->assertSame('u', $this->keyedPool('env', '')->getItem('untagged')->get(), "'' turns the environment's key off");
            $fromEnv = $this->keyedPool('env', null, $logger = new TestLogger());
            $this->assertSame('v', $fromEnv->getItem('tagged')->get(), 'the key from the environment');
            $this->assertFalse($fromEnv->getItem('untagged')->isHit(), 'the key from the environment is checked');
            $logger->assertReported('untagged entry');
            $this->assertFalse($this->keyedPool('env', 'another-secret-0123456789abcdef', new TestLogger())->getItem('tagged')->isHit(), 'a given key wins over the environment');
        } finally {
            putenv('LAMBDA_CACHE_INTEGRITY_KEY');
        }
        $this->assertTrue($none->save($none->getItem('untagged')->set('u')));
        $this->assertTrue($keyed->save($keyed->getItem('tagged')->set('v')));
        $this->assertSame('u', $this->keyedPool('env', null)->getItem('untagged')->get(), 'no key, none in the environment');
        $this->assertSame('v', $this->keyedPool('env', null)->getItem('tagged')->get(), 'without a key the tag is not checked');
        try {
            $this->keyedPool('env', 'too-short');
            $this->fail('a 9-byte integrityKey was accepted');
        } catch (\LambdaCache\InvalidArgumentException $e) {
            $this->assertStringContainsString('integrityKey', $e->getMessage());
        }
    }

    public function testTheIntegrityKeyIsHiddenFromTraces(): void
    {
        foreach ([\LambdaCache\TmpCachePool::class, \LambdaCache\DynamoDbCachePool::class] as $class) {
            $parameter = null;
            foreach ((new \ReflectionMethod($class, '__construct'))->getParameters() as $p) {
                if ($p->getName() === 'integrityKey') {
                    $parameter = $p;
                }
            }
            $this->assertNotNull($parameter, "{$class} has an integrityKey parameter");
            $this->assertCount(1, $parameter->getAttributes(\SensitiveParameter::class), "{$class}: integrityKey is #[\\SensitiveParameter]");
        }
    }
}
