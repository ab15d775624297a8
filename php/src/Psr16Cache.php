<?php

declare(strict_types=1);

namespace LambdaCache;

use Psr\SimpleCache\CacheInterface;

/**
 * PSR-16 over any LambdaCache pool, straight onto the pool's native store.
 */
final class Psr16Cache implements CacheInterface
{
    public function __construct(private AbstractPool $pool)
    {
    }

    public function get($key, $default = null): mixed
    {
        // The native store checks the rest of the key rules.
        if (!\is_string($key)) {
            Ttl::invalidKey($key);
        }

        return $this->pool->fetchOne($key, $default);
    }

    public function set($key, $value, $ttl = null): bool
    {
        if (!\is_string($key)) {
            Ttl::invalidKey($key);
        }

        return $this->pool->storeOne($key, $value, Ttl::toExpiry($ttl, 'a PSR-16 cache'));
    }

    public function delete($key): bool
    {
        return $this->pool->removeMany(Ttl::keys([$key]));
    }

    public function clear(): bool
    {
        return $this->pool->clear();
    }

    public function getMultiple($keys, $default = null): iterable
    {
        // The keys are checked once, by fetchValues() (natively when nothing is deferred).
        $keys = self::iterable($keys);

        return Ttl::withStringKeys($this->pool->fetchValues(\is_array($keys) ? \array_values($keys) : \iterator_to_array($keys, false), $default));
    }

    public function setMultiple($values, $ttl = null): bool
    {
        $list = [];
        foreach (self::iterable($values) as $key => $value) {
            // Array keys that look like integers arrive as integers.
            $list[Ttl::key(\is_int($key) ? (string) $key : $key)] = $value;
        }

        return $this->pool->storeMany($list, Ttl::toExpiry($ttl, 'a PSR-16 cache'));
    }

    public function deleteMultiple($keys): bool
    {
        return $this->pool->removeMany(Ttl::keys(self::iterable($keys)));
    }

    public function has($key): bool
    {
        return $this->pool->hasItem($key);
    }

    private static function iterable(mixed $keys): iterable
    {
        if (!\is_iterable($keys)) {
            throw new InvalidArgumentException(\sprintf(
                'LambdaCache: expected an array or a Traversable, %s given.',
                \get_debug_type($keys)
            ));
        }

        return $keys;
    }
}
