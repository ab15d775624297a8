<?php

declare(strict_types=1);

namespace LambdaCache;

use Psr\Cache\CacheItemInterface;

/**
 * A cache item of a LambdaCache pool. Created by the pools only.
 */
final class CacheItem implements CacheItemInterface
{
    /** Milliseconds since the epoch; null = the pool's default lifetime. */
    private ?int $expiry = null;

    /**
     * @internal
     * Three parameters, not four: every getItem() constructs one, and each parameter costs.
     */
    public function __construct(
        private string $key,
        private mixed $value = null,
        private bool $hit = false,
    ) {
    }

    public function getKey(): string
    {
        return $this->key;
    }

    public function get(): mixed
    {
        return $this->hit ? $this->value : null;
    }

    public function isHit(): bool
    {
        return $this->hit;
    }

    public function set($value): static
    {
        $this->value = $value;

        return $this;
    }

    public function expiresAt($expiration): static
    {
        if ($expiration === null) {
            $this->expiry = null;
        } elseif ($expiration instanceof \DateTimeInterface) {
            $this->expiry = self::toMs((float) $expiration->format('U.u'));
        } else {
            throw new InvalidArgumentException(\sprintf(
                'LambdaCache: expiresAt() takes a DateTimeInterface or null, %s given.',
                \get_debug_type($expiration)
            ));
        }

        return $this;
    }

    /**
     * Seconds since the epoch as milliseconds, kept within int as Ttl does for TTLs: a date
     * centuries ahead is "far future". A plain (int) cast of a float past PHP_INT_MAX gives
     * PHP_INT_MIN or 0, an expiry in the past, and save() then deleted the item.
     */
    private static function toMs(float $seconds): int
    {
        $ms = \floor($seconds * 1000);
        // 2^63 is the first float past PHP_INT_MAX.
        if ($ms >= 9.2233720368547758E18) {
            return \PHP_INT_MAX;
        }

        return $ms < -9.2233720368547758E18 ? \PHP_INT_MIN : (int) $ms;
    }

    public function expiresAfter($time): static
    {
        $this->expiry = Ttl::toExpiry($time, 'expiresAfter()');

        return $this;
    }

    /**
     * @internal a deferred item as getItem() returns it before the commit: a hit, its own copy
     */
    public static function pending(self $item): self
    {
        $copy = clone $item;
        $copy->hit = true;

        return $copy;
    }

    /**
     * @internal reads an item's state for the pools
     * @return array{0: string, 1: mixed, 2: int|null}
     */
    public static function export(self $item): array
    {
        return [$item->key, $item->value, $item->expiry];
    }
}
