<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Tests\Support\TestLogger;
use LambdaCache\Tests\Support\ValueObject;

/**
 * PSR-6 failures that are not the caller's fault (docs/platform.md §3.8): no exception, false, a report
 * ("LambdaCache: ..." to the logger, else an E_USER_WARNING), and the previous value intact.
 */
trait PoolFailureTests
{
    /** @return array<string, mixed> values no pool can store */
    protected static function unstorableValues(): array
    {
        $generator = (static function () {
            yield 1;
        })();
        return [
            'closure' => static fn () => 1,
            'closure in array' => ['ok' => 1, 'bad' => static fn () => 2],
            'resource' => fopen('php://memory', 'r'),
            'resource in array' => [[STDERR]],
            'generator' => $generator,
        ];
    }

    /** @return array<string, mixed> values with objects, refused when allowedClasses is false */
    protected static function objectValues(): array
    {
        return [
            'stdClass' => new \stdClass(),
            'user class' => new ValueObject(1, 'x', []),
            'object in nested array' => ['a' => ['b' => new \ArrayObject()]],
            'DateTimeImmutable' => new \DateTimeImmutable(),
        ];
    }

    public function testUnstorableValuesFailTheSaveWithAReportAndKeepThePreviousValue(): void
    {
        $cases = [];
        foreach (self::unstorableValues() as $label => $value) {
            $cases[] = ['allowedClasses true', true, $label, $value];
            $cases[] = ['allowedClasses false', false, $label, $value];
        }
        foreach (self::objectValues() as $label => $value) {
            $cases[] = ['allowedClasses false', false, $label, $value];
        }
        foreach ($cases as $n => [$mode, $allowed, $label, $value]) {
            $logger = new TestLogger();
            $pool = $this->createPool('failures', 0, $allowed, $logger);
            $key = "key{$n}";
            $this->assertTrue($this->saveValue($pool, $key, 'previous'));
            $this->assertFalse($this->saveValue($pool, $key, $value), "{$mode}, {$label}: save() must return false");
            $logger->assertReported("{$mode}, {$label}");
            $this->assertSame('previous', $pool->getItem($key)->get(), "{$mode}, {$label}: previous value, same pool");
            $this->assertSame('previous', $this->createPool('failures', 0, $allowed)->getItem($key)->get(), "{$mode}, {$label}: previous value, new pool");
        }
    }

    public function testUnstorableDeferredValuesFailAtTheLatestOnCommit(): void
    {
        $logger = new TestLogger();
        $pool = $this->createPool('failures', 0, false, $logger);
        $this->assertTrue($this->saveValue($pool, 'k', 'previous'));
        $deferred = $pool->saveDeferred($pool->getItem('k')->set(static fn () => 1));
        $this->assertTrue($pool->saveDeferred($pool->getItem('good')->set('fine')));
        $committed = $pool->commit();
        $this->assertFalse($deferred && $committed, 'saveDeferred() and commit() both succeeded for a closure');
        $logger->assertReported('deferred closure');
        $this->assertSame('previous', $this->createPool('failures')->getItem('k')->get());
        $this->assertSame('previous', $pool->getItem('k')->get());
    }

    public function testFailuresGoToALoggerSetLater(): void
    {
        $pool = $this->createPool('failures', 0, false);
        $logger = new TestLogger();
        $pool->setLogger($logger);
        $this->assertFalse($this->saveValue($pool, 'k', new \stdClass()));
        $logger->assertReported('setLogger()');
    }

    public function testFailuresWithoutALoggerAreUserWarnings(): void
    {
        $pool = $this->createPool('failures');
        $errors = [];
        set_error_handler(static function (int $no, string $message) use (&$errors): bool {
            $errors[] = [$no, $message];
            return true;
        });
        try {
            $saved = $this->saveValue($pool, 'k', static fn () => 1);
        } finally {
            restore_error_handler();
        }
        $this->assertFalse($saved);
        $this->assertTrue(count($errors) > 0, 'no warning was raised');
        foreach ($errors as [$no, $message]) {
            $this->assertSame(E_USER_WARNING, $no, $message);
            $this->assertTrue(str_starts_with($message, 'LambdaCache:'), $message);
        }
    }
}
