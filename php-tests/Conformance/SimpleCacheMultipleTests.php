<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;

/** PSR-16 getMultiple / setMultiple / deleteMultiple with arrays and other iterables. */
trait SimpleCacheMultipleTests
{
    public function testGetMultipleReturnsEveryKeyWithTheDefaultForMisses(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->set('a', 'A'));
        $this->assertTrue($cache->set('n', null));
        $result = Items::toArray($cache->getMultiple(['a', 'missing', 'n']));
        $this->assertSame(['a', 'missing', 'n'], array_keys($result));
        $this->assertSame('A', $result['a']);
        $this->assertNull($result['missing']);
        $this->assertNull($result['n']);

        $result = Items::toArray($cache->getMultiple(['a', 'missing', 'n'], 'default'));
        $this->assertSame(['a' => 'A', 'missing' => 'default', 'n' => null], $result);
        $this->assertCount(0, Items::toArray($cache->getMultiple([])));
        $this->assertCount(0, Items::toArray($cache->getMultiple([], 'default')));
    }

    public function testMultipleCallsAcceptAnyIterable(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->setMultiple(self::pairs([['g1', 1], ['g2', [2]]])));
        $this->assertTrue($cache->setMultiple(new \ArrayIterator(['i1' => 'one', 'i2' => false])));
        $this->assertTrue($cache->setMultiple(new \ArrayObject(['o1' => 1.5])));
        $this->assertTrue($cache->setMultiple([]));
        $this->assertTrue($cache->setMultiple(self::generate([])));

        $expected = ['g1' => 1, 'g2' => [2], 'i1' => 'one', 'i2' => false, 'o1' => 1.5];
        $reader = $this->createCache();
        $this->assertSame($expected, Items::toArray($reader->getMultiple(array_keys($expected))));
        $this->assertSame($expected, Items::toArray($reader->getMultiple(self::generate(array_keys($expected)))));
        $this->assertSame($expected, Items::toArray($reader->getMultiple(new \ArrayIterator(array_keys($expected)))));
        $this->assertCount(0, Items::toArray($reader->getMultiple(self::generate([]))));

        $this->assertTrue($cache->deleteMultiple(self::generate(['g1', 'i1'])));
        $this->assertTrue($cache->deleteMultiple(new \ArrayIterator(['o1'])));
        $this->assertSame(
            ['g1' => 'x', 'g2' => [2], 'i1' => 'x', 'i2' => false, 'o1' => 'x'],
            Items::toArray($this->createCache()->getMultiple(array_keys($expected), 'x'))
        );
    }

    public function testGetMultipleUsesKeysAsValuesNotArrayKeys(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->set('value-key', 'V'));
        $result = Items::toArray($cache->getMultiple(['array-key' => 'value-key']));
        $this->assertSame(['value-key' => 'V'], $result);
    }

    public function testSetMultipleWritesAllValues(): void
    {
        $cache = $this->createCache();
        $values = [];
        for ($i = 0; $i < 200; $i++) {
            $values["bulk.{$i}"] = $i % 3 === 0 ? null : ['i' => $i];
        }
        $this->assertTrue($cache->setMultiple($values));
        $this->assertSame($values, Items::toArray($this->createCache()->getMultiple(array_keys($values), 'miss')));
        $this->assertTrue($cache->deleteMultiple(array_keys($values)));
        $this->assertSame(array_fill_keys(array_keys($values), 'miss'), Items::toArray($this->createCache()->getMultiple(array_keys($values), 'miss')));
    }

    public function testGetMultipleKeysAreTheStringsGivenEvenWhenNumeric(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->setMultiple(['123' => 'hit', 'a' => 'A']));
        $seen = [];
        foreach ($cache->getMultiple(['123', 'a', '0', '-7', '1.5', '123'], 'miss') as $key => $value) {
            $seen[] = [$key, $value];
        }
        $this->assertSame([['123', 'hit'], ['a', 'A'], ['0', 'miss'], ['-7', 'miss'], ['1.5', 'miss']], $seen);
        $this->assertIsArray($cache->getMultiple(['a', 'b']), 'without numeric keys getMultiple() returns an array');
    }

    public function testDuplicateKeysInMultipleCalls(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->set('dup', 'D'));
        $this->assertSame(['dup' => 'D'], Items::toArray($cache->getMultiple(['dup', 'dup'])));
        $this->assertTrue($cache->setMultiple(self::pairs([['twice', 'first'], ['twice', 'second']])));
        $this->assertSame('second', $cache->get('twice'));
        $this->assertTrue($cache->deleteMultiple(['dup', 'dup']));
        $this->assertFalse($cache->has('dup'));
    }
}
