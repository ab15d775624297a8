<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\Tests\Support\ValueObject;

/** PSR-16 values (docs/platform.md §3.3) and failures (§3.8). */
trait SimpleCacheValueTests
{
    public function testTheDefaultCacheRoundTripsObjects(): void
    {
        $values = [
            'DateTime' => new \DateTime('2020-01-02 03:04:05.678', new \DateTimeZone('UTC')),
            'DTO' => new ValueObject(7, 'dto', ['tags']),
        ];
        $cache = $this->createCache('default-objects', 0, null, $logger = new TestLogger());
        $this->assertTrue($cache->set('one', $values['DateTime']));
        $this->assertTrue($cache->setMultiple($values));
        $reader = $this->createCache('default-objects');
        $this->assertEquals($values['DateTime'], $reader->get('one'));
        $this->assertEquals($values, Items::toArray($reader->getMultiple(array_keys($values))));
        $this->assertSame([], $logger->warnings());
    }

    public function testValuesWithoutObjectsRoundTripExactly(): void
    {
        $failures = [];
        foreach (['allowedClasses false' => false, 'allowedClasses true' => true] as $mode => $allowed) {
            $namespace = $allowed ? 'values-any' : 'values-none';
            $cache = $this->createCache($namespace, 0, $allowed);
            $values = [];
            $i = 0;
            foreach (Values::withoutObjects() as $label => $value) {
                $key = 'v' . $i++;
                $values[$key] = [$label, $value];
                if ($cache->set($key, $value) !== true) {
                    $failures[] = "{$mode}, {$label}: set() did not return true";
                }
            }
            $batch = [];
            foreach ($values as $key => [, $value]) {
                $batch["m{$key}"] = $value;
            }
            $this->assertTrue($cache->setMultiple($batch), "{$mode}: setMultiple()");

            $reader = $this->createCache($namespace, 0, $allowed);
            $many = Items::toArray($reader->getMultiple(array_keys($batch), 'miss'));
            foreach ($values as $key => [$label, $value]) {
                foreach (['same cache' => $cache->get($key, 'miss'), 'new cache' => $reader->get($key, 'miss'), 'getMultiple' => (array_key_exists("m{$key}", $many) ? $many["m{$key}"] : 'no entry')] as $which => $actual) {
                    $diff = Values::diff($value, $actual);
                    if ($diff !== null) {
                        $failures[] = "{$mode}, {$label} ({$which}): {$diff}";
                    }
                }
            }
        }
        $this->assertSame([], $failures);
    }

    public function testObjectsRoundTripWhenAllowed(): void
    {
        $cache = $this->createCache('objects', 0, [ValueObject::class]);
        $object = new ValueObject(3, 'three', [1.5, -0.0]);
        $this->assertTrue($cache->set('object', $object));
        $this->assertTrue($cache->setMultiple(['in-array' => ['x' => $object]]));
        $reader = $this->createCache('objects', 0, [ValueObject::class]);
        $this->assertNull(Values::diff($object, $reader->get('object')));
        $this->assertNull(Values::diff(['x' => $object], $reader->get('in-array')));
    }

    public function testUnstorableValuesFailWithAReportAndKeepThePreviousValue(): void
    {
        $cases = [
            'closure (any class allowed)' => [true, static fn () => 1],
            'resource (any class allowed)' => [true, fopen('php://memory', 'r')],
            'object (no class allowed)' => [false, new \stdClass()],
            'object in array (no class allowed)' => [false, [1, [new ValueObject(1, null, [])]]],
        ];
        foreach ($cases as $label => [$allowed, $value]) {
            $logger = new TestLogger();
            $cache = $this->createCache('failures', 0, $allowed, $logger);
            $this->assertTrue($cache->set('k', 'previous'));
            $this->assertFalse($cache->set('k', $value), "{$label}: set()");
            $logger->assertReported("{$label}: set()");
            $this->assertSame('previous', $cache->get('k'), "{$label}: previous value");

            $logger->reset();
            $this->assertFalse($cache->setMultiple(['good' => 1, 'k' => $value]), "{$label}: setMultiple()");
            $logger->assertReported("{$label}: setMultiple()");
            $this->assertSame('previous', $this->createCache('failures', 0, $allowed)->get('k'), "{$label}: previous value, new cache");
        }
    }

    public function testReadsOfObjectsThatAreNotAllowedAreMisses(): void
    {
        $writer = $this->createCache('shared', 0, true);
        $this->assertTrue($writer->set('object', new ValueObject(1, 'x', [])));
        $logger = new TestLogger();
        $reader = $this->createCache('shared', 0, false, $logger);
        $this->assertSame('miss', $reader->get('object', 'miss'));
        $this->assertSame(['object' => 'miss'], Items::toArray($reader->getMultiple(['object'], 'miss')));
        $logger->assertReported('read of a class not allowed');
    }
}
