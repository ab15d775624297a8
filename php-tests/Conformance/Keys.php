<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

/** Valid and invalid cache keys shared by the PSR-6 and PSR-16 conformance suites. */
final class Keys
{
    /**
     * Keys every store must accept, all distinct (stored side by side, they must not collide).
     *
     * @return array<string, string> label => key
     */
    public static function valid(): array
    {
        return [
            'single char' => 'a',
            'uppercase' => 'A',
            'string "0"' => '0',
            'digits' => '123',
            'leading zero' => '0123',
            'dot' => '.',
            'two dots' => '..',
            'three dots' => '...',
            'underscore' => '_',
            'mixed PSR-6 minimum' => 'Az09_.',
            '64 chars A-Za-z0-9_.' => substr(str_repeat('AZaz09_.', 8), 0, 64),
            'case differs: key' => 'key',
            'case differs: Key' => 'Key',
            'dashes and plus' => 'a-b+c',
            'space' => 'with space',
            'other punctuation' => "!#\$%&*=?[]^`|~,;<>\"'",
            'percent-encoded slash' => '..%2F..%2Fescape',
            'utf-8' => "\u{043A}\u{043B}\u{044E}\u{0447}-\u{00e9}-\u{1F600}",
            'invalid utf-8' => "\xff\xfe",
            'replacement chars' => "\u{FFFD}\u{FFFD}",
            'NUL inside' => "a\0b",
            'tab and newline' => "a\tb\nc",
            'store file name' => 'data.mdb',
            'lock file name' => 'lock.mdb',
            '65 chars' => str_repeat('k', 65),
            '300 chars' => str_repeat('k', 300),
            '5000 chars ending in y' => str_repeat('x', 4999) . 'y',
            '5000 chars ending in z' => str_repeat('x', 4999) . 'z',
        ];
    }

    /**
     * Keys every method must reject with an InvalidArgumentException.
     *
     * @return array<string, mixed> label => key
     */
    public static function invalid(): array
    {
        $keys = ['empty string' => ''];
        foreach (str_split('{}()/\\@:') as $char) {
            $keys["reserved {$char} alone"] = $char;
            $keys["reserved {$char} inside"] = "a{$char}b";
        }
        return $keys + [
            'reserved at the end' => 'key:',
            'reserved at the start' => '@key',
            'path' => '../etc/passwd',
            'namespaced-looking' => 'ns:key',
            'long with reserved char at the end' => str_repeat('k', 300) . '}',
            // The error message quotes the key: a NUL in it must not break the exception.
            'NUL and reserved' => "a\0/b",
            'NUL, reserved at the end' => "\0\0:",
            'int' => 5,
            'int 0' => 0,
            'float' => 1.5,
            'null' => null,
            'true' => true,
            'false' => false,
            'array' => ['a'],
            'object' => new \stdClass(),
        ];
    }

    /** Invalid keys that PHP allows as array keys (strings only; ints are cast by PHP itself). */
    public static function invalidStrings(): array
    {
        return array_filter(self::invalid(), 'is_string');
    }
}
