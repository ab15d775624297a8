<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * A pool hands out the same decoded array again while the stored bytes are unchanged: reads
 * must still see every write (from this pool, another pool or another process) and never
 * each other's modifications.
 */
final class TmpMemoTest extends TestCase
{
    use TmpDirectoryFixture;

    private static function big(string $tag): array
    {
        return ['tag' => $tag, 'list' => range(1, 40), 'nested' => ['a' => str_repeat($tag, 20), 'b' => [1.5, null, true]]];
    }

    public function testModifyingAReturnedArrayDoesNotChangeLaterReads(): void
    {
        $pool = $this->createPool();
        $this->assertTrue($pool->save($pool->getItem('k')->set(self::big('a'))));
        $first = $pool->getItem('k')->get();
        $first['tag'] = 'changed';
        $first['nested']['b'][] = 'more';
        $this->assertSame(self::big('a'), $pool->getItem('k')->get());
        $this->assertSame(['k' => self::big('a')], array_map(fn ($i) => $i->get(), $pool->getItems(['k'])));
    }

    public function testWritesFromAnywhereAreSeenAtOnce(): void
    {
        $pool = $this->createPool();
        $other = $this->createPool();
        $pool->save($pool->getItem('k')->set(self::big('a')));
        $this->assertSame(self::big('a'), $pool->getItem('k')->get());

        // Same length, other content: only the bytes tell them apart.
        $other->save($other->getItem('k')->set(self::big('b')));
        $this->assertSame(self::big('b'), $pool->getItem('k')->get());

        $result = Php::run(
            '$p = new LambdaCache\TmpCachePool(namespace: "test", directory: $dir);'
            . '$p->save($p->getItem("k")->set(["tag" => "c", "list" => range(1, 40), "nested" => ["a" => str_repeat("c", 20), "b" => [1.5, null, true]]]));',
            ['dir' => $this->dir]
        );
        $this->assertSame(0, $result->exitCode, $result->describe());
        $this->assertSame(self::big('c'), $pool->getItem('k')->get());

        $other->deleteItem('k');
        $this->assertFalse($pool->getItem('k')->isHit());
        $pool->save($pool->getItem('k')->set(self::big('a')));
        $this->assertSame(self::big('a'), (new \LambdaCache\Psr16Cache($pool))->get('k'));
    }
}
