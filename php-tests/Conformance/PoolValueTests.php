<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\Tests\Support\ValueObject;

/** PSR-6 values come back exactly as stored (docs/platform.md §3.3). */
trait PoolValueTests
{
    public function testTheDefaultPoolRoundTripsObjects(): void
    {
        // PSR-6: every serializable PHP type, objects included, with the default configuration.
        $dto = new ValueObject(7, 'dto', ['a' => [1.5, null]]);
        $dto->child = new \DateTime('2001-02-03 04:05:06.123456', new \DateTimeZone('America/New_York'));
        $values = [
            'DateTime' => new \DateTime('2020-01-02 03:04:05.678', new \DateTimeZone('UTC')),
            'DateTimeImmutable' => new \DateTimeImmutable('@1700000000'),
            'DTO' => $dto,
            'stdClass in array' => ['o' => (object) ['x' => 1]],
        ];
        $pool = $this->createPool('default-objects', 0, null, $logger = new TestLogger());
        foreach ($values as $label => $value) {
            $this->assertTrue($this->saveValue($pool, $label, $value), "{$label}: save()");
        }
        $reader = $this->createPool('default-objects');
        foreach ($values as $label => $value) {
            $item = $reader->getItem($label);
            $this->assertTrue($item->isHit(), "{$label}: a miss");
            $this->assertEquals($value, $item->get(), $label);
            $this->assertSame(\get_debug_type($value), \get_debug_type($item->get()), $label);
        }
        $items = Items::toArray($reader->getItems(array_keys($values)));
        $this->assertEquals($values, array_map(static fn ($item) => $item->get(), $items));
        $this->assertSame([], $logger->warnings());
    }

    public function testValuesWithoutObjectsRoundTripExactlyWhateverAllowedClassesIs(): void
    {
        $failures = [];
        foreach (['allowedClasses false' => false, 'allowedClasses true' => true, 'allowedClasses list' => [ValueObject::class]] as $mode => $allowed) {
            $namespace = 'values-' . md5($mode);
            $pool = $this->createPool($namespace, 0, $allowed);
            $i = 0;
            foreach (Values::withoutObjects() as $label => $value) {
                if ($pool->save($pool->getItem('v' . $i++)->set($value)) !== true) {
                    $failures[] = "{$mode}, {$label}: save did not return true";
                }
            }
            $reader = $this->createPool($namespace, 0, $allowed);
            $keys = [];
            $i = 0;
            foreach (Values::withoutObjects() as $label => $value) {
                $key = 'v' . $i++;
                $keys[] = $key;
                foreach (['same pool' => $pool, 'new pool' => $reader] as $which => $p) {
                    $item = $p->getItem($key);
                    $diff = $item->isHit() ? Values::diff($value, $item->get()) : 'a miss';
                    if ($diff !== null) {
                        $failures[] = "{$mode}, {$label} ({$which}): {$diff}";
                    }
                }
            }
            $items = Items::toArray($reader->getItems($keys));
            $i = 0;
            foreach (Values::withoutObjects() as $label => $value) {
                $item = $items['v' . $i++] ?? null;
                $diff = ($item !== null && $item->isHit()) ? Values::diff($value, $item->get()) : 'a miss';
                if ($diff !== null) {
                    $failures[] = "{$mode}, {$label} (getItems): {$diff}";
                }
            }
        }
        $this->assertSame([], $failures);
    }

    public function testDeferredValuesRoundTripExactly(): void
    {
        $pool = $this->createPool();
        $i = 0;
        foreach (Values::withoutObjects() as $value) {
            $this->assertTrue($pool->saveDeferred($pool->getItem('d' . $i++)->set($value)));
        }
        $failures = [];
        $check = static function ($p, string $when) use (&$failures): void {
            $i = 0;
            foreach (Values::withoutObjects() as $label => $value) {
                $item = $p->getItem('d' . $i++);
                $diff = $item->isHit() ? Values::diff($value, $item->get()) : 'a miss';
                if ($diff !== null) {
                    $failures[] = "{$label} ({$when}): {$diff}";
                }
            }
        };
        $check($pool, 'before commit');
        $this->assertTrue($pool->commit());
        $check($this->createPool(), 'after commit, new pool');
        $this->assertSame([], $failures);
    }

    public function testObjectsRoundTripWhenAllClassesAreAllowed(): void
    {
        $logger = new TestLogger();
        $pool = $this->createPool('objects', 0, true, $logger);
        $object = new ValueObject(7, 'seven', ['a' => [1, 2.5, null], 'nan' => NAN]);
        $object->child = new ValueObject(-1, null, []);
        $std = new \stdClass();
        $std->int = 1;
        $std->string = '1';
        $std->list = [1, '2', 3.0];
        $values = [
            'user class' => $object,
            'stdClass' => $std,
            'ArrayObject' => new \ArrayObject(['x' => 1, 2 => 'two']),
            'DateTimeImmutable' => new \DateTimeImmutable('2024-02-29 12:34:56.789012', new \DateTimeZone('Europe/Paris')),
            'array of objects' => ['a' => $std, 'b' => [$object], 'c' => 3],
        ];
        foreach ($values as $label => $value) {
            $this->assertTrue($this->saveValue($pool, $label, $value), "save {$label}");
        }
        $failures = [];
        foreach ([$pool, $this->createPool('objects', 0, true, $logger)] as $p) {
            foreach ($values as $label => $value) {
                $item = $p->getItem($label);
                $diff = $item->isHit() ? Values::diff($value, $item->get()) : 'a miss';
                if ($diff !== null) {
                    $failures[] = "{$label}: {$diff}";
                }
            }
        }
        $this->assertSame([], $failures);
        $this->assertSame([], $logger->records);
    }

    public function testObjectsOfListedClassesRoundTrip(): void
    {
        $logger = new TestLogger();
        $pool = $this->createPool('listed', 0, [ValueObject::class, \ArrayObject::class], $logger);
        $object = new ValueObject(1, 'one', ['t']);
        $this->assertTrue($this->saveValue($pool, 'vo', $object));
        $this->assertTrue($this->saveValue($pool, 'list', [$object, new \ArrayObject([1])]));
        $reader = $this->createPool('listed', 0, [ValueObject::class, \ArrayObject::class], $logger);
        $this->assertNull(Values::diff($object, $reader->getItem('vo')->get()));
        $this->assertNull(Values::diff([$object, new \ArrayObject([1])], $reader->getItem('list')->get()));
        $this->assertSame([], $logger->records);
    }

    public function testObjectsOfClassesNotListedAreNeverReturned(): void
    {
        $logger = new TestLogger();
        $pool = $this->createPool('listed', 0, [ValueObject::class], $logger);
        $nested = new ValueObject(1, 'one', []);
        $nested->child = new \stdClass();
        $values = ['stdClass' => new \stdClass(), 'ArrayObject' => new \ArrayObject([]), 'nested stdClass' => $nested, 'in array' => [new \stdClass()]];
        foreach ($values as $label => $value) {
            $this->saveValue($pool, $label, 'previous');
            $saved = $this->saveValue($pool, $label, $value);
            foreach ([$pool, $this->createPool('listed', 0, [ValueObject::class], $logger)] as $p) {
                $item = $p->getItem($label);
                if ($saved) {
                    // Accepted on write: it must then be refused on read, as a miss.
                    $this->assertFalse($item->isHit(), "{$label}: an object of a class not listed was returned");
                    $this->assertNull($item->get());
                } else {
                    $this->assertSame('previous', $item->get(), "{$label}: a refused save changed the stored value");
                }
            }
        }
        $logger->assertReported('objects of classes not listed');
    }

    public function testAReaderThatDisallowsAClassGetsAMiss(): void
    {
        $writer = $this->createPool('shared', 0, true);
        $this->assertTrue($this->saveValue($writer, 'object', new ValueObject(1, 'x', [])));
        $this->assertTrue($this->saveValue($writer, 'plain', ['no objects']));
        foreach (['allowedClasses false' => false, 'other class listed' => [\ArrayObject::class]] as $label => $allowed) {
            $logger = new TestLogger();
            $reader = $this->createPool('shared', 0, $allowed, $logger);
            $item = $reader->getItem('object');
            $this->assertFalse($item->isHit(), "{$label}: read an object it does not allow");
            $this->assertNull($item->get(), $label);
            $this->assertFalse(Items::toArray($reader->getItems(['object']))['object']->isHit(), "{$label}: getItems");
            $this->assertSame(['no objects'], $reader->getItem('plain')->get(), $label);
            $logger->assertReported($label);
        }
    }

    public function testAnAnonymousClassObjectIsNotSavedAndSaveReturnsFalse(): void
    {
        // The name of an anonymous class contains a NUL byte, and the error quotes it.
        foreach (['allowedClasses false' => false, 'allowedClasses true' => true, 'allowedClasses list' => [ValueObject::class]] as $label => $allowed) {
            $logger = new TestLogger();
            $pool = $this->createPool('anon-' . md5($label), 0, $allowed, $logger);
            $this->assertTrue($this->saveValue($pool, 'k', 'previous'), $label);
            $this->assertFalse($this->saveValue($pool, 'k', new class () {
            }), $label);
            $this->assertFalse($this->saveValue($pool, 'k', ['in an array' => new class () {
            }]), "{$label}: in an array");
            $this->assertSame('previous', $pool->getItem('k')->get(), $label);
            $logger->assertReported($label);
        }
    }
}
