<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;

/** PSR-16 key rules (docs/platform.md §3.1, §3.2). */
trait SimpleCacheKeyTests
{
    public function testValidKeysRoundTripSideBySide(): void
    {
        $cache = $this->createCache();
        $failures = [];
        foreach (Keys::valid() as $label => $key) {
            if ($cache->set($key, "value of {$label}") !== true) {
                $failures[] = "{$label}: set() did not return true";
            }
        }
        $reader = $this->createCache();
        foreach (Keys::valid() as $label => $key) {
            if ($reader->get($key) !== "value of {$label}" || $reader->has($key) !== true) {
                $failures[] = "{$label}: read back " . Values::show($reader->get($key, 'default'));
            }
        }
        $keys = array_values(Keys::valid());
        $many = Items::toArray($reader->getMultiple($keys));
        $this->assertCount(count($keys), $many);
        foreach (Keys::valid() as $label => $key) {
            if (($many[$key] ?? null) !== "value of {$label}") {
                $failures[] = "{$label}: getMultiple()";
            }
            if ($reader->delete($key) !== true || $reader->has($key)) {
                $failures[] = "{$label}: delete()";
            }
        }
        $this->assertSame([], $failures);
    }

    public function testInvalidKeysAreRejectedByEveryMethod(): void
    {
        $cache = $this->createCache('test', 0, false, new TestLogger());
        $methods = [
            'get' => static fn ($k) => $cache->get($k),
            'get with default' => static fn ($k) => $cache->get($k, 'default'),
            'set' => static fn ($k) => $cache->set($k, 'v'),
            'has' => static fn ($k) => $cache->has($k),
            'delete' => static fn ($k) => $cache->delete($k),
            'getMultiple' => static fn ($k) => Items::toArray($cache->getMultiple(['valid', $k])),
            'getMultiple (generator)' => static fn ($k) => Items::toArray($cache->getMultiple(self::generate(['valid', $k]))),
            'deleteMultiple' => static fn ($k) => $cache->deleteMultiple(['valid', $k]),
            'deleteMultiple (generator)' => static fn ($k) => $cache->deleteMultiple(self::generate(['valid', $k])),
            'setMultiple (generator)' => static fn ($k) => $cache->setMultiple(self::pairs([['valid', 1], [$k, 2]])),
        ];
        $failures = [];
        foreach ($methods as $method => $call) {
            foreach (Keys::invalid() as $label => $key) {
                if (str_starts_with($method, 'setMultiple') && is_int($key)) {
                    continue; // PHP arrays turn "5" into 5: integer keys of $values are cast to strings.
                }
                self::expectInvalidArgument(static fn () => $call($key), "{$method}({$label})", $failures);
            }
        }
        foreach (Keys::invalidStrings() as $label => $key) {
            self::expectInvalidArgument(static fn () => $cache->setMultiple(['valid' => 1, $key => 2]), "setMultiple({$label})", $failures);
        }
        $this->assertSame([], $failures);
    }

    public function testMultipleCallsValidateEveryKeyBeforeChangingAny(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->set('first', 'old'));
        $this->assertTrue($cache->set('last', 'old'));
        $failures = [];
        foreach (Keys::invalidStrings() as $label => $key) {
            self::expectInvalidArgument(static fn () => $cache->setMultiple(['first' => 'new', $key => 'x', 'last' => 'new']), "setMultiple({$label})", $failures);
            self::expectInvalidArgument(static fn () => $cache->setMultiple(self::pairs([['first', 'new'], [$key, 'x'], ['last', 'new']])), "setMultiple(generator, {$label})", $failures);
            self::expectInvalidArgument(static fn () => $cache->deleteMultiple(['first', $key, 'last']), "deleteMultiple({$label})", $failures);
            self::expectInvalidArgument(static fn () => $cache->deleteMultiple(self::generate(['first', $key, 'last'])), "deleteMultiple(generator, {$label})", $failures);
        }
        self::expectInvalidArgument(static fn () => $cache->setMultiple(self::pairs([['first', 'new'], [null, 'x']])), 'setMultiple(generator, null key)', $failures);
        $this->assertSame([], $failures);
        $reader = $this->createCache();
        $this->assertSame('old', $reader->get('first'), 'a multiple call changed a key before finding an invalid one');
        $this->assertSame('old', $reader->get('last'));
        $this->assertSame('old', $cache->get('first'));
    }

    public function testIntegerKeysOfSetMultipleArraysAreTheirStrings(): void
    {
        $cache = $this->createCache();
        $this->assertTrue($cache->setMultiple(['123' => 'digits', '0' => 'zero', 'abc' => 'letters']));
        $this->assertSame('digits', $cache->get('123'));
        $this->assertSame('zero', $cache->get('0'));
        $this->assertSame('letters', $this->createCache()->get('abc'));
    }

    public function testKeysThatAreNotIterableAreRejected(): void
    {
        $cache = $this->createCache();
        $failures = [];
        foreach (['string' => 'key', 'int' => 5, 'null' => null, 'object' => new \stdClass(), 'false' => false] as $label => $notIterable) {
            self::expectInvalidArgument(static fn () => Items::toArray($cache->getMultiple($notIterable)), "getMultiple({$label})", $failures);
            self::expectInvalidArgument(static fn () => $cache->setMultiple($notIterable), "setMultiple({$label})", $failures);
            self::expectInvalidArgument(static fn () => $cache->deleteMultiple($notIterable), "deleteMultiple({$label})", $failures);
        }
        $this->assertSame([], $failures);
    }
}
