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
     * An absolute expiry in milliseconds for a TTL (null = the pool's default).
     */
    public static function toExpiry(mixed $ttl, string $where): ?int
    {
        if ($ttl === null) {
            return null;
        }
        if (\is_int($ttl)) {
            return self::nowMs() + $ttl * 1000;
        }
        if ($ttl instanceof \DateInterval) {
            // The interval's length from the epoch: zero or negative intervals give an expiry
            // that is already past, whatever the clock does in between.
            $span = (float) (new \DateTimeImmutable('@0'))->add($ttl)->format('U.u');

            return self::nowMs() + (int) \floor($span * 1000);
        }
        throw new InvalidArgumentException(\sprintf(
            'LambdaCache: %s takes an int, a DateInterval or null as TTL, %s given.',
            $where,
            \get_debug_type($ttl)
        ));
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
            if (!\is_string($key) || $key === '' || \strpbrk($key, self::RESERVED) !== false) {
                self::invalidKey($key);
            }
            $list[] = $key;
        }

        return $list;
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
