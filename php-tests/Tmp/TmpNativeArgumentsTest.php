<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Native\InvalidArgumentException;
use LambdaCache\Native\TmpStore;
use PHPUnit\Framework\TestCase;

/**
 * Arguments of the native TmpStore that no PSR call passes: refused with
 * Native\InvalidArgumentException and the right code, and nothing is written.
 */
final class TmpNativeArgumentsTest extends TestCase
{
    use TmpDirectoryFixture;

    private const KEY = 1;
    private const CONFIG = 2;
    private const ARGUMENT = 8;

    private function store(mixed $allowedClasses = false): TmpStore
    {
        return new TmpStore($this->dir, 'args', 1 << 20, $allowedClasses);
    }

    private function assertRefused(int $code, callable $call, string $what): void
    {
        try {
            $call();
        } catch (InvalidArgumentException $e) {
            $this->assertSame($code, $e->getCode(), "{$what}: {$e->getMessage()}");

            return;
        }
        $this->fail("{$what} was accepted");
    }

    public function testNegativeOrNonIntegerExpiriesAreRefused(): void
    {
        $store = $this->store();
        foreach ([-5, 'soon', '5', 1.5, null] as $expiry) {
            $what = 'expiry ' . var_export($expiry, true);
            $this->assertRefused(self::ARGUMENT, fn () => $store->set('k', 'v', $expiry), "set() with {$what}");
            $this->assertRefused(
                self::ARGUMENT,
                fn () => $store->setMany(['a', 'b'], ['1', '2'], [0, $expiry]),
                "setMany() with {$what}"
            );
        }
        $this->assertSame([[], []], $store->getMany(['k', 'a', 'b']), 'nothing was written');

        // 0 still means never.
        $store->set('k', 'v', 0);
        $this->assertSame([], $store->setMany(['a'], ['1'], [0]));
        $this->assertSame([['v', '1'], []], $store->getMany(['k', 'a']));
    }

    public function testArraysOfDifferentLengthsAreRefused(): void
    {
        $store = $this->store();
        $this->assertRefused(self::ARGUMENT, fn () => $store->setMany(['a', 'b'], ['1'], [0, 0]), 'one value short');
        $this->assertRefused(self::ARGUMENT, fn () => $store->setMany(['a'], ['1'], []), 'no expiry');
        $this->assertSame([[], []], $store->getMany(['a', 'b']));
    }

    public function testBadKeysFailTheWholeBatchWhateverTheirValue(): void
    {
        $store = $this->store();
        $this->assertRefused(self::KEY, fn () => $store->setMany(['a', 'b/c'], ['1', '2'], [0, 0]), 'reserved character');
        $this->assertRefused(self::KEY, fn () => $store->setMany(['a', 'b/c'], ['1', fn () => 1], [0, 0]), 'closure under a bad key');
        $this->assertRefused(self::KEY, fn () => $store->set('b/c', fn () => 1, 0), 'set() of a closure under a bad key');
        $this->assertSame([[], []], $store->getMany(['a']));
    }

    public function testClassNamesMustBeStrings(): void
    {
        $this->assertRefused(self::CONFIG, fn () => $this->store(['stdClass', 42]), 'a class name that is an int');
        $this->assertRefused(self::CONFIG, fn () => $this->store('stdClass'), 'a string instead of a list');
        $this->assertInstanceOf(TmpStore::class, $this->store(null));
    }
}
