<?php

declare(strict_types=1);

namespace LambdaCache;

/**
 * @internal TTL and key rules shared by the PSR-6 and PSR-16 classes
 */
final class Ttl
{
    /** Characters PSR-6 and PSR-16 reserve. */
    public const RESERVED = '{}()/\@:';

    /**
     * $byKey (key => item or value) with the keys as given: the array itself, or, when PHP made
     * an int of a numeric-string key ('123'), a generator yielding every key as a string.
     *
     * @param array<string|int, mixed> $byKey
     * @return iterable<string, mixed>
     */
    public static function withStringKeys(array $byKey): iterable
    {
        foreach ($byKey as $key => $_) {
            if (\is_int($key)) {
                return self::stringKeyed($byKey);
            }
        }

        return $byKey;
    }

    /** @return \Generator<string, mixed> */
    private static function stringKeyed(array $byKey): \Generator
    {
        foreach ($byKey as $key => $value) {
            yield (string) $key => $value;
        }
    }

    /**
     * An absolute expiry in milliseconds for a TTL (null = the pool's default).
     */
    public static function toExpiry(mixed $ttl, string $where): ?int
    {
        if ($ttl === null) {
            return null;
        }
        if (\is_int($ttl)) {
            return self::fromNow($ttl * 1000);
        }
        if ($ttl instanceof \DateInterval) {
            // The interval's length from the epoch: zero or negative intervals give an expiry
            // that is already past, whatever the clock does in between.
            $span = (float) (new \DateTimeImmutable('@0'))->add($ttl)->format('U.u');

            return self::fromNow(\floor($span * 1000));
        }
        throw new InvalidArgumentException(\sprintf(
            'LambdaCache: %s takes an int, a DateInterval or null as TTL, %s given.',
            $where,
            \get_debug_type($ttl)
        ));
    }

    /**
     * Now plus $ms, kept within int: a TTL of centuries (PHP_INT_MAX seconds) is "far future",
     * not an overflow into a float.
     */
    private static function fromNow(int|float $ms): int
    {
        $at = self::nowMs() + $ms;
        if (\is_int($at)) {
            return $at;
        }
        // A float: from an interval, or an int sum that overflowed. 2^63 is the first float
        // past PHP_INT_MAX.
        if ($at >= 9.2233720368547758E18) {
            return \PHP_INT_MAX;
        }

        return $at < -9.2233720368547758E18 ? \PHP_INT_MIN : (int) $at;
    }

    public static function nowMs(): int
    {
        return (int) (\microtime(true) * 1000);
    }

    /**
     * Validates every key of a list before anything is done with them.
     *
     * @return list<string>
     */
    public static function keys(iterable $keys): array
    {
        $list = [];
        foreach ($keys as $key) {
            $list[] = self::key($key);
        }

        return $list;
    }

    /** $key if it is a legal key; else throws. */
    public static function key(mixed $key): string
    {
        if (!\is_string($key) || $key === '' || \strpbrk($key, self::RESERVED) !== false) {
            self::invalidKey($key);
        }

        return $key;
    }

    /**
     * Throws the exception for an illegal key (called once the fast check failed).
     */
    public static function invalidKey(mixed $key): never
    {
        if (!\is_string($key)) {
            throw new InvalidArgumentException(\sprintf(
                'LambdaCache: a cache key must be a string, %s given.',
                \get_debug_type($key)
            ));
        }
        if ($key === '') {
            throw new InvalidArgumentException('LambdaCache: a cache key cannot be empty.');
        }
        throw new InvalidArgumentException(\sprintf(
            'LambdaCache: cache key "%s" contains a reserved character (%s).',
            $key,
            self::RESERVED
        ));
    }
}
