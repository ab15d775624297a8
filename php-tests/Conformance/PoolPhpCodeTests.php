<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Psr16Cache;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\ProcessResult;
use LambdaCache\Tests\Support\WakeupReader;

/**
 * PHP code that a store runs inside its own calls: serialize() and unserialize() run __sleep,
 * __serialize, __wakeup, __unserialize, autoloaders and error handlers. That code may use the
 * same pool again, call exit() or die of a fatal error; the process must behave as plain PHP.
 */
trait PoolPhpCodeTests
{
    /**
     * Child-process code that sets `$pool`, a pool of this store with allowedClasses true in
     * the namespace `$ns` (a variable the caller sets), and the variables it needs.
     *
     * @return array{0: string, 1: array<string, mixed>}
     */
    abstract protected function childPool(): array;

    public function testAnObjectWhoseWakeupReadsTheSamePoolComesBack(): void
    {
        $writer = $this->createPool('reentry', 0, [WakeupReader::class]);
        $big = ['list' => range(1, 40), 'text' => str_repeat('memoised ', 10)];
        $this->assertTrue($this->saveValue($writer, 'array', $big));
        $this->assertTrue($this->saveValue($writer, 'string', 'a string'));
        $this->assertTrue($this->saveValue($writer, 'object', new WakeupReader(['array', 'string', 'missing'])));
        $expected = ['array' => $big, 'string' => 'a string', 'missing' => null];

        $reader = $this->createPool('reentry', 0, [WakeupReader::class]);
        WakeupReader::$pool = $reader;
        try {
            $reads = [
                'getItem' => static fn () => $reader->getItem('object')->get(),
                'getItems' => static fn () => Items::toArray($reader->getItems(['array', 'object', 'string']))['object']->get(),
                'PSR-16 get' => static fn () => (new Psr16Cache($reader))->get('object'),
            ];
            foreach ($reads as $label => $read) {
                $object = $read();
                $this->assertInstanceOf(WakeupReader::class, $object, $label);
                $this->assertSame($expected, $object->seen, $label);
            }
            $this->assertSame($big, $reader->getItem('array')->get(), 'the pool still works afterwards');
        } finally {
            WakeupReader::$pool = null;
        }
    }

    public function testAnAutoloaderBackedByTheSamePoolLoadsAClassWhileItIsRead(): void
    {
        [$poolCode, $vars] = $this->childPool();
        $class = 'AutoloadedFromTheCache' . bin2hex(random_bytes(4));
        $vars += ['ns' => 'autoload', 'class' => $class, 'source' => "final class {$class} { public int \$n = 0; }"];
        $written = Php::run($poolCode . <<<'PHP'
            eval($source);
            $object = new $class();
            $object->n = 42;
            echo json_encode([$pool->save($pool->getItem('source')->set($source)), $pool->save($pool->getItem('object')->set($object))]);
            PHP, $vars);
        $this->assertSame('[true,true]', $written->stdout, $written->describe());

        $read = Php::run($poolCode . <<<'PHP'
            spl_autoload_register(static function (string $name) use (&$pool, $class): void {
                if ($name === $class) {
                    eval($pool->getItem('source')->get());
                }
            });
            $object = $pool->getItem('object')->get();
            echo get_class($object) === $class ? $object->n : 'not loaded: ' . var_export($object, true);
            PHP, $vars);
        $this->assertSame('42', $read->stdout, $read->describe());
        $this->assertSame('', $read->stderr, $read->describe());
    }

    public function testExitInWakeupExitsWithItsStatusAndRunsShutdownFunctions(): void
    {
        foreach (['getItem' => '$pool->getItem("object");', 'getItems' => 'iterator_to_array($pool->getItems(["plain", "object", "other"]));'] as $label => $read) {
            $r = $this->runExiting(<<<'PHP'
                final class ExitOnWakeup
                {
                    public function __wakeup(): void
                    {
                        exit(7);
                    }
                }
                $pool->save($pool->getItem('object')->set(new ExitOnWakeup()));
                $pool->save($pool->getItem('other')->set(new ExitOnWakeup()));
                PHP . $read);
            $this->assertExited(7, $r, $label);
        }
    }

    public function testExitInSerializeDuringSaveExitsWithItsStatus(): void
    {
        $r = $this->runExiting(<<<'PHP'
            final class ExitOnSerialize
            {
                public function __serialize(): array
                {
                    exit(7);
                }

                public function __unserialize(array $data): void
                {
                }
            }
            $pool->save($pool->getItem('object')->set(new ExitOnSerialize()));
            PHP);
        $this->assertExited(7, $r, 'save');
    }

    public function testAnErrorHandlerThatExitsOnSerializesWarningExits(): void
    {
        $r = $this->runExiting(<<<'PHP'
            final class SleepsAMissingProperty
            {
                public function __sleep(): array
                {
                    return ['missing'];
                }
            }
            set_error_handler(static function (int $no, string $message): bool {
                echo "handler: {$message}\n";
                exit(7);
            });
            $pool->save($pool->getItem('object')->set(new SleepsAMissingProperty()));
            PHP);
        $this->assertExited(7, $r, 'die on warning');
        $this->assertStringContainsString('handler: serialize():', $r->stdout, $r->describe());
    }

    public function testMemoryExhaustedInWakeupIsAFatalErrorThatRunsShutdownFunctions(): void
    {
        $r = $this->runExiting(<<<'PHP'
            final class HugeOnWakeup
            {
                public string $s = '';

                public function __wakeup(): void
                {
                    $this->s = str_repeat('x', 256 << 20);
                }
            }
            $pool->save($pool->getItem('object')->set(new HugeOnWakeup()));
            ini_set('memory_limit', '64M');
            $pool->getItem('object');
            PHP);
        $this->assertExited(255, $r, 'memory_limit');
        $this->assertStringContainsString('Allowed memory size', $r->stderr, $r->describe());
    }

    /**
     * Runs $code in a child after saving 'plain' and registering a shutdown function that
     * reads it back through the same pool (so that the pool must still work).
     */
    private function runExiting(string $code): ProcessResult
    {
        [$poolCode, $vars] = $this->childPool();
        return Php::run($poolCode . <<<'PHP'
            $pool->save($pool->getItem('plain')->set('plain value'));
            register_shutdown_function(static function () use (&$pool): void {
                echo 'shutdown read ', var_export($pool->getItem('plain')->get(), true), "\n";
            });
            PHP . "\n" . $code . "\necho \"not reached\\n\";", $vars + ['ns' => 'exit']);
    }

    private function assertExited(int $status, ProcessResult $r, string $label): void
    {
        $this->assertSame($status, $r->exitCode, "{$label}: " . $r->describe());
        $this->assertNull($r->termSignal, "{$label}: " . $r->describe());
        $this->assertStringContainsString("shutdown read 'plain value'\n", $r->stdout, "{$label}: " . $r->describe());
        $this->assertStringNotContainsString('not reached', $r->stdout, "{$label}: " . $r->describe());
        $this->assertStringNotContainsString('Rust panic', $r->stdout . $r->stderr, "{$label}: " . $r->describe());
    }
}
