<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

use Psr\Cache\CacheItemInterface;

/**
 * A CacheItemInterface from "another implementation". Its signatures are compatible with
 * psr/cache 1.0, 2.0 and 3.0 at once (untyped/mixed parameters, 3.0 return types).
 */
final class ForeignItem implements CacheItemInterface
{
    private string $key;
    private mixed $value = null;

    public function __construct(string $key, mixed $value = null)
    {
        $this->key = $key;
        $this->value = $value;
    }

    public function getKey(): string
    {
        return $this->key;
    }

    public function get(): mixed
    {
        return $this->value;
    }

    public function isHit(): bool
    {
        return false;
    }

    public function set(mixed $value): static
    {
        $this->value = $value;
        return $this;
    }

    public function expiresAt(mixed $expiration): static
    {
        return $this;
    }

    public function expiresAfter(mixed $time): static
    {
        return $this;
    }
}
