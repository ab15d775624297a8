<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Psr16Cache;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;
use PHPUnit\Framework\TestCase;

/**
 * Keys past the partition-key limit, binary values, and values around DynamoDB's 400 KB item
 * limit (docs/platform.md §4): compressed when large, refused cleanly when too large.
 */
final class DynamoStoreValueTest extends TestCase
{
    use DynamoTableFixture;

    private const KB = 1024;

    public function testLongKeysStayDistinctAndKeepTheirName(): void
    {
        $keys = [
            '300 chars ending in a' => str_repeat('k', 299) . 'a',
            '300 chars ending in b' => str_repeat('k', 299) . 'b',
            '2048 chars' => str_repeat('m', 2048),
            '2049 chars' => str_repeat('m', 2049),
            '5000 chars ending in y' => str_repeat('x', 4999) . 'y',
            '5000 chars ending in z' => str_repeat('x', 4999) . 'z',
            '3000 bytes of UTF-8' => str_repeat("\u{00e9}", 1500),
            '3000 bytes, invalid UTF-8' => str_repeat("\xff", 3000),
        ];
        $pool = $this->dynamoPool(['namespace' => 'long', 'logger' => $logger = new TestLogger()]);
        foreach ($keys as $label => $key) {
            $this->assertTrue($pool->save($pool->getItem($key)->set($label)), "save {$label}");
        }
        $reader = $this->dynamoPool(['namespace' => 'long']);
        foreach ($keys as $label => $key) {
            $item = $reader->getItem($key);
            $this->assertSame($key, $item->getKey(), "{$label}: getKey()");
            $this->assertSame($label, $item->get(), "{$label}: its own value");
        }
        $items = Items::toArray($reader->getItems(array_values($keys)));
        $this->assertSame(array_values($keys), array_keys($items));
        $this->assertSame(array_keys($keys), array_map(static fn ($item) => $item->get(), array_values($items)));

        $this->assertTrue($pool->deleteItem($keys['5000 chars ending in y']));
        $this->assertFalse($reader->hasItem($keys['5000 chars ending in y']));
        $this->assertSame('5000 chars ending in z', $reader->getItem($keys['5000 chars ending in z'])->get(), 'deleting a long key removed its sibling');
        $this->assertSame([], $logger->warnings());

        foreach ($this->rawValueItems() as $raw) {
            $id = $raw['id']['S'] ?? null;
            $this->assertTrue(is_string($id), 'the partition key is a String: ' . json_encode(array_keys($raw)));
            $this->assertTrue(strlen($id) >= 1 && strlen($id) <= 2048, 'the partition key is 1-2048 bytes, got ' . strlen($id));
        }
    }

    public function testBinaryValuesComeBackByteForByte(): void
    {
        $allBytes = implode('', array_map('chr', range(0, 255)));
        $values = [
            'all 256 bytes' => $allBytes,
            'NUL' => "\0",
            'NULs' => "\0\0\0\0",
            'NUL inside' => "a\0b",
            'invalid UTF-8' => "\xc3\x28\xa0\xa1\xff\xfe",
            'empty string' => '',
            'all bytes x 200 (compressed)' => str_repeat($allBytes, 200),
            'array of binary' => ["\0" => $allBytes, "k\xff" => ["\xfe" => "\0\xff"], 7 => "\x80"],
        ];
        $pool = $this->dynamoPool(['namespace' => 'bin', 'logger' => $logger = new TestLogger()]);
        foreach ($values as $label => $value) {
            $this->assertTrue($pool->save($pool->getItem(md5($label))->set($value)), "save {$label}");
        }
        $reader = $this->dynamoPool(['namespace' => 'bin']);
        foreach ($values as $label => $value) {
            $this->assertSame($value, $reader->getItem(md5($label))->get(), $label);
        }
        $many = Items::toArray($reader->getItems(array_map('md5', array_keys($values))));
        $this->assertSame(array_values($values), array_map(static fn ($item) => $item->get(), array_values($many)));
        $this->assertSame([], $logger->warnings());
    }

    public function testLargeValuesUpToTheItemLimitStore(): void
    {
        $pool = $this->dynamoPool(['namespace' => 'large', 'logger' => $logger = new TestLogger()]);
        $values = [
            '200 KB random' => random_bytes(200 * self::KB),
            '390000 bytes random' => random_bytes(390000),
            '1 MiB compressible' => substr(str_repeat('LambdaCache compresses this line, again and again. ', 21000), 0, 1024 * self::KB),
            '1 MiB compressible in an array' => ['text' => str_repeat("row\0", 256 * self::KB)],
        ];
        foreach ($values as $label => $value) {
            $this->assertTrue($pool->save($pool->getItem(md5($label))->set($value)), "save {$label}");
        }
        $reader = $this->dynamoPool(['namespace' => 'large']);
        foreach ($values as $label => $value) {
            $this->assertTrue($value === $reader->getItem(md5($label))->get(), "{$label} reads back unchanged");
        }
        $this->assertTrue($values['1 MiB compressible'] === (new Psr16Cache($reader))->get(md5('1 MiB compressible')));
        $this->assertSame([], $logger->warnings());
        foreach ($this->rawValueItems() as $raw) {
            $this->assertTrue(strlen(base64_decode($raw['value']['B'])) < 400 * self::KB, 'stored values are under 400 KB');
        }
    }

    public function testTooLargeValueFailsWithAReportAndKeepsThePreviousValue(): void
    {
        $logger = new TestLogger();
        $pool = $this->dynamoPool(['namespace' => 'too-large', 'logger' => $logger]);
        $this->assertTrue($pool->save($pool->getItem('k')->set('previous')));
        $before = $this->rawValueItems();

        $this->assertFalse($pool->save($pool->getItem('k')->set(random_bytes(500 * self::KB))), 'save() of 500 KB of random bytes');
        $logger->assertReported('save() of 500 KB');
        $this->assertSame('previous', $pool->getItem('k')->get(), 'previous value, same pool');
        $this->assertSame('previous', $this->dynamoPool(['namespace' => 'too-large'])->getItem('k')->get(), 'previous value, new pool');
        $this->assertSame($before, $this->rawValueItems(), 'nothing was written');

        $logger->reset();
        $cache = new Psr16Cache($pool);
        $this->assertFalse($cache->set('k', random_bytes(450 * self::KB)), 'Psr16Cache::set() of 450 KB');
        $logger->assertReported('Psr16Cache::set() of 450 KB');
        $this->assertSame('previous', $cache->get('k'));

        $logger->reset();
        $this->assertFalse(
            $pool->save($pool->getItem('k')->set(['a' => random_bytes(300 * self::KB), 'b' => random_bytes(300 * self::KB)])),
            'save() of an array of 600 KB'
        );
        $logger->assertReported('save() of an array of 600 KB');
        $this->assertSame('previous', $this->dynamoPool(['namespace' => 'too-large'])->getItem('k')->get());
    }

    public function testTooLargeDeferredValueFailsAloneInItsCommit(): void
    {
        $logger = new TestLogger();
        $pool = $this->dynamoPool(['namespace' => 'too-large-deferred', 'logger' => $logger]);
        $this->assertTrue($pool->save($pool->getItem('big')->set('previous')));
        foreach (['before', 'big', 'after'] as $key) {
            $value = $key === 'big' ? random_bytes(500 * self::KB) : "small {$key}";
            $this->assertTrue($pool->saveDeferred($pool->getItem($key)->set($value)));
        }
        $this->assertFalse($pool->commit(), 'commit() with a 500 KB item');
        $logger->assertReported('commit() with a 500 KB item');
        $reader = $this->dynamoPool(['namespace' => 'too-large-deferred']);
        $this->assertSame('previous', $reader->getItem('big')->get(), 'the oversized item left the previous value');
        $this->assertSame('small before', $reader->getItem('before')->get(), 'the other items of the commit were saved');
        $this->assertSame('small after', $reader->getItem('after')->get(), 'the other items of the commit were saved');
    }

    public function testTamperedMessagePackKeysFollowPhpsNumericStringRule(): void
    {
        // PHP never makes a string key out of a canonical integer ("7" is the key 7): an entry
        // that has one (written by someone else) must still give an array PHP can index.
        $pool = $this->dynamoPool(['namespace' => 'keys']);
        $this->assertTrue($pool->save($pool->getItem('k')->set(['placeholder' => true])));
        $items = $this->rawValueItems();
        $this->assertCount(1, $items);
        $bin = static fn (string $s): string => "\xc4" . chr(strlen($s)) . $s;
        $map = "\x87"
            . $bin('7') . "\x01"            // "7" => 1
            . $bin('5') . "\x02"            // "5" => 2
            . "\x05" . "\x03"               // 5 => 3: the same key, the later value wins
            . "\xa2-3" . "\x04"             // "-3" (a str) => 4
            . $bin('07') . "\x05"           // "07" stays a string key
            . $bin('-0') . "\x06"           // "-0" too
            . $bin('9223372036854775808') . "\x07"; // past PHP_INT_MAX: a string key
        $entry = "\xc4\x01\x01\x00" . pack('P', 0) . $map;
        $item = $items[0];
        $item['value'] = ['B' => base64_encode($entry)];
        $this->client()->putItem($this->table, $item);

        $value = $this->dynamoPool(['namespace' => 'keys'])->getItem('k')->get();
        $this->assertTrue(is_array($value), 'the crafted entry is read: ' . var_export($value, true));
        $this->assertSame([7, 5, -3, '07', '-0', '9223372036854775808'], array_keys($value));
        $this->assertSame(1, $value['7'] ?? null, '$value["7"]');
        $this->assertSame(1, $value[7] ?? null, '$value[7]');
        $this->assertSame(3, $value[5] ?? null, '$value[5]');
        $this->assertSame(4, $value['-3'] ?? null, '$value["-3"]');
        $this->assertSame(5, $value['07'] ?? null);
        $this->assertSame([7 => 1, 5 => 3, -3 => 4, '07' => 5, '-0' => 6, '9223372036854775808' => 7], $value);
    }
}
