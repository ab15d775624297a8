<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Conformance;

/**
 * Values that must round-trip exactly through every store whatever allowedClasses is (no
 * objects), and an exact comparison that tells NAN, -0.0, key types and key order apart.
 */
final class Values
{
    /** @return array<string, mixed> label => value */
    public static function withoutObjects(): array
    {
        $allBytes = '';
        for ($i = 0; $i < 256; $i++) {
            $allBytes .= chr($i);
        }
        $nested = ['leaf' => true];
        for ($i = 0; $i < 32; $i++) {
            $nested = [$i => $nested, 'depth' => $i];
        }
        $big = [];
        for ($i = 0; $i < 1000; $i++) {
            $big[] = ['id' => $i, 'name' => "item {$i}", 'score' => $i / 7, 'ok' => $i % 2 === 0];
        }

        return [
            'null' => null,
            'true' => true,
            'false' => false,
            'int 0' => 0,
            'int 1' => 1,
            'int -1' => -1,
            'int 255' => 255,
            'int 65536' => 65536,
            'int 2^32' => 4294967296,
            'PHP_INT_MAX' => PHP_INT_MAX,
            'PHP_INT_MIN' => PHP_INT_MIN,
            'float 0.0' => 0.0,
            'float -0.0' => -0.0,
            'float 5.0' => 5.0,
            'float 1.5' => 1.5,
            'float 0.1' => 0.1,
            'float -1.5e-300' => -1.5e-300,
            'float 1e300' => 1e300,
            'PHP_FLOAT_EPSILON' => PHP_FLOAT_EPSILON,
            'PHP_FLOAT_MAX' => PHP_FLOAT_MAX,
            'PHP_FLOAT_MIN' => PHP_FLOAT_MIN,
            'denormal 5e-324' => 5e-324,
            'INF' => INF,
            '-INF' => -INF,
            'NAN' => NAN,
            'empty string' => '',
            'string "0"' => '0',
            'string "5"' => '5',
            'string "5.0"' => '5.0',
            'string "1e3"' => '1e3',
            'string "true"' => 'true',
            'string "null"' => 'null',
            'string "N;"' => 'N;',
            'serialized-looking string' => 'a:1:{i:0;O:8:"stdClass":0:{}}',
            'utf-8 string' => "k\u{00e9}y \u{1F600} \u{0436}",
            'all 256 bytes' => $allBytes,
            'NUL byte' => "\0",
            'NUL inside' => "a\0b\0",
            'invalid utf-8' => "\xff\xfe\xc3\x28\x80",
            'long string 300 KB' => str_repeat("0123456789abcdef\0\xff", 16 * 1024),
            'empty array' => [],
            'list' => [1, 2, 3],
            'list of mixed types' => [null, false, true, 0, -0.0, 1.5, '1', 'a', [], [[]]],
            'non-sequential int keys' => [3 => 'a', 1 => 'b', 10 => 'c'],
            'negative int keys' => [-5 => 'neg', -1 => 'minus one', 0 => 'zero'],
            'extreme int keys' => [PHP_INT_MAX => 'max', PHP_INT_MIN => 'min'],
            'numeric-like string keys' => ['05' => 'x', '1.5' => 'y', '-0' => 'z', ' 1' => 'w', '1 ' => 'v', '0x1A' => 'u', '' => 'empty'],
            'mixed keys' => [0 => 'a', 'a' => 1, 1 => 'b', '10' => 'ten (int key)', 'b' => [2 => 'x']],
            'binary keys' => ["\xff\xfe" => 1, "a\0b" => 2, "\u{00e9}" => 3],
            'special floats in array' => ['nan' => NAN, 'neg zero' => -0.0, 'inf' => INF, 'ninf' => -INF, 'five' => 5.0],
            'null and false values in array' => ['n' => null, 'f' => false, 'e' => '', 'z' => 0],
            'nested 32 levels' => $nested,
            'array of 1000 records' => $big,
        ];
    }

    /**
     * The first difference between $expected and $actual as text, or null when they are the same
     * value of the same type (NAN equals NAN; 0.0 and -0.0 differ; array key types and order count).
     */
    public static function diff(mixed $expected, mixed $actual, string $path = '$value'): ?string
    {
        if (is_float($expected)) {
            if (!is_float($actual)) {
                return "{$path}: expected " . self::show($expected) . ', got ' . self::show($actual);
            }
            if (is_nan($expected)) {
                return is_nan($actual) ? null : "{$path}: expected NAN, got " . self::show($actual);
            }
            if ($expected === 0.0) {
                $sign = fdiv(1.0, $expected);
                return ($actual === 0.0 && fdiv(1.0, $actual) === $sign)
                    ? null : "{$path}: expected " . self::show($expected) . ', got ' . self::show($actual);
            }
            return $expected === $actual ? null : "{$path}: expected " . self::show($expected) . ', got ' . self::show($actual);
        }
        if (is_array($expected)) {
            if (!is_array($actual)) {
                return "{$path}: expected array, got " . self::show($actual);
            }
            if (array_keys($expected) !== array_keys($actual)) {
                return "{$path}: keys differ: expected " . self::show(array_keys($expected)) . ', got ' . self::show(array_keys($actual));
            }
            foreach ($expected as $k => $v) {
                $d = self::diff($v, $actual[$k], $path . '[' . var_export($k, true) . ']');
                if ($d !== null) {
                    return $d;
                }
            }
            return null;
        }
        if (is_object($expected)) {
            if (!is_object($actual) || get_class($actual) !== get_class($expected)) {
                return "{$path}: expected object of class " . get_class($expected) . ', got ' . self::show($actual);
            }
            return serialize($expected) === serialize($actual) ? null : "{$path}: objects differ: " . self::show($actual);
        }
        return $expected === $actual ? null : "{$path}: expected " . self::show($expected) . ', got ' . self::show($actual);
    }

    public static function show(mixed $v): string
    {
        if (is_float($v)) {
            if (is_nan($v)) {
                return 'float(NAN)';
            }
            return 'float(' . ($v === 0.0 && fdiv(1.0, $v) < 0 ? '-0.0' : var_export($v, true)) . ')';
        }
        if (is_string($v)) {
            $s = strlen($v) > 80 ? substr($v, 0, 80) . '...(' . strlen($v) . ' bytes)' : $v;
            return 'string(' . json_encode($s, JSON_INVALID_UTF8_SUBSTITUTE) . ')';
        }
        if (is_object($v)) {
            return 'object(' . get_class($v) . ')';
        }
        if (is_array($v)) {
            $s = json_encode($v, JSON_INVALID_UTF8_SUBSTITUTE | JSON_PARTIAL_OUTPUT_ON_ERROR);
            return 'array(' . (strlen((string) $s) > 200 ? substr((string) $s, 0, 200) . '...' : $s) . ')';
        }
        return get_debug_type($v) . '(' . var_export($v, true) . ')';
    }
}
