<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

use LambdaCache\Psr16Cache;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\WakeupReader;

/**
 * PHP code that a store runs inside its own calls: serialize() and unserialize() run __sleep,
 * __serialize, __wakeup, __unserialize, autoloaders and error handlers. That code may use the
 * same pool again.
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
}
