<?php

declare(strict_types=1);

namespace LambdaCache;

use Psr\Cache\CacheItemInterface;
use Psr\Cache\CacheItemPoolInterface;

/**
 * PSR-6 over a native LambdaCache store (batch-first: getMany, setMany, deleteMany).
 *
 * Backend failures never escape: a failed read is a miss, a failed write is false, and the
 * failure is reported to the logger (any object with a PSR-3 `warning()` method) or, without
 * one, as an E_USER_WARNING. In strict mode they throw CacheException instead.
 */
abstract class AbstractPool implements CacheItemPoolInterface
{
    /** @var object the native store (LambdaCache\Native\*) */
    protected object $store;
    private int $defaultLifetime;
    private ?object $logger;
    private bool $strict;
    /** @var array<string, CacheItem> */
    private array $deferred = [];
    private static object $miss;

    /**
     * @param \Closure(): object $openStore makes the native store; called once the PHP-side
     *                                      arguments are known to be valid
     */
    protected function __construct(\Closure $openStore, int $defaultLifetime, ?object $logger, bool $strict = false)
    {
        if ($defaultLifetime < 0) {
            throw new InvalidArgumentException('LambdaCache: defaultLifetime cannot be negative.');
        }
        $this->store = self::native($openStore);
        $this->defaultLifetime = $defaultLifetime;
        $this->logger = $logger;
        $this->strict = $strict;
        self::$miss ??= new \stdClass();
    }

    public function __destruct()
    {
        if ($this->deferred) {
            $this->commit();
        }
    }

    public function setLogger(?object $logger): void
    {
        $this->logger = $logger;
    }

    public function getItem($key): CacheItemInterface
    {
        // The rest of the key rules are checked by the native store, which says so with
        // Native\InvalidArgumentException before it touches anything.
        if (!\is_string($key)) {
            Ttl::invalidKey($key);
        }
        if ($this->deferred && isset($this->deferred[$key])) {
            return $this->fromDeferred($key);
        }
        $miss = self::$miss;
        try {
            $value = $this->store->get($key, $miss);
        } catch (Native\InvalidArgumentException) {
            Ttl::invalidKey($key);
        } catch (\Exception $e) {
            $this->report($e, ['key' => $key]);
            $value = $miss;
        }

        return $value === $miss ? new CacheItem($key) : new CacheItem($key, $value, true);
    }

    public function getItems(array $keys = []): iterable
    {
        if ($this->deferred) {
            return Ttl::withStringKeys($this->fetchMany(Ttl::keys($keys)));
        }
        // The native store checks every key (type included) before it reads any.
        $keys = \array_values($keys);
        $hits = $keys ? $this->fetchStored($keys) : [];
        $items = [];
        foreach ($keys as $i => $key) {
            $items[$key] = \array_key_exists($i, $hits) ? new CacheItem($key, $hits[$i], true) : new CacheItem($key);
        }

        return Ttl::withStringKeys($items);
    }

    public function hasItem($key): bool
    {
        if (!\is_string($key)) {
            Ttl::invalidKey($key);
        }

        return $this->fetchOne($key, self::$miss) !== self::$miss;
    }

    public function clear(): bool
    {
        $this->deferred = [];
        try {
            $this->store->clear();

            return true;
        } catch (\Exception $e) {
            $this->report($e);

            return false;
        }
    }

    public function deleteItem($key): bool
    {
        return $this->deleteItems([$key]);
    }

    public function deleteItems(array $keys): bool
    {
        return $this->removeMany(Ttl::keys($keys));
    }

    public function save(CacheItemInterface $item): bool
    {
        if (!$item instanceof CacheItem) {
            return $this->foreign($item);
        }
        [$key, $value, $expiry] = CacheItem::export($item);

        return $this->storeOne($key, $value, $expiry);
    }

    public function saveDeferred(CacheItemInterface $item): bool
    {
        if (!$item instanceof CacheItem) {
            return $this->foreign($item);
        }
        $this->deferred[$item->getKey()] = $item;

        return true;
    }

    public function commit(): bool
    {
        $items = $this->deferred;
        $this->deferred = [];
        $ok = true;
        foreach ($items as $item) {
            [$key, $value, $expiry] = CacheItem::export($item);
            $batches[$expiry ?? 'default'][$key] = $value;
        }
        foreach ($batches ?? [] as $expiry => $values) {
            $ok = $this->storeMany($values, $expiry === 'default' ? null : $expiry) && $ok;
        }

        return $ok;
    }

    /**
     * Writes this pool's CloudWatch EMF line now (when the metrics option or
     * lambda_cache.metrics_emf is on, and only if something happened since its last line), rather
     * than at the end of the request: for a worker that serves many events in one request, call it
     * at the end of each (README, "Metrics").
     */
    public function flushMetrics(): void
    {
        $this->store->flushMetrics();
    }

    /**
     * Removes expired entries from the store.
     */
    public function prune(): bool
    {
        try {
            $this->store->prune();

            return true;
        } catch (\Exception $e) {
            $this->report($e);

            return false;
        }
    }

    /**
     * Sizes and counters of the native store (entries, bytes_used, ..., hits, misses, writes:
     * README, "Metrics"); an empty array when the store cannot tell (the failure is reported
     * like any other).
     *
     * @return array<string, int|float>
     */
    public function stats(): array
    {
        try {
            return $this->store->stats();
        } catch (\Exception $e) {
            $this->report($e);

            return [];
        }
    }

    /**
     * The items of validated keys, deferred items included (as getItem() returns them).
     *
     * @param list<string> $keys
     * @return array<string, CacheItem>
     */
    private function fetchMany(array $keys): array
    {
        $out = [];
        $ask = [];
        foreach ($keys as $key) {
            if (isset($this->deferred[$key])) {
                $out[$key] = $this->fromDeferred($key);
            } else {
                $out[$key] = null;
                $ask[] = $key;
            }
        }
        $hits = $ask ? $this->fetchStored($ask) : [];
        foreach ($ask as $i => $key) {
            $out[$key] = \array_key_exists($i, $hits) ? new CacheItem($key, $hits[$i], true) : new CacheItem($key);
        }

        return $out;
    }

    /**
     * @internal for Psr16Cache: key => value, or $default for misses; the keys are checked
     * here (by the native store when nothing is deferred)
     * @param list<mixed> $keys
     * @return array<string, mixed>
     */
    public function fetchValues(array $keys, mixed $default): array
    {
        $out = [];
        if ($this->deferred) {
            foreach ($this->fetchMany(Ttl::keys($keys)) as $key => $item) {
                $out[$key] = $item->isHit() ? $item->get() : $default;
            }

            return $out;
        }
        $hits = $keys ? $this->fetchStored($keys) : [];
        foreach ($keys as $i => $key) {
            $out[$key] = \array_key_exists($i, $hits) ? $hits[$i] : $default;
        }

        return $out;
    }

    /**
     * Hits among validated $keys from the store, as position in $keys => value.
     *
     * @param list<string> $keys
     * @return array<int, mixed>
     */
    private function fetchStored(array $keys): array
    {
        try {
            [$hits, $errors] = $this->store->getMany($keys);
        } catch (Native\InvalidArgumentException $e) {
            Ttl::keys($keys);
            throw new InvalidArgumentException('LambdaCache: ' . $e->getMessage(), 0, $e);
        } catch (\Exception $e) {
            $this->report($e, ['keys' => $keys]);

            return [];
        }
        foreach ($errors as $i => $reason) {
            $this->reportMessage(\sprintf('LambdaCache: cannot read "%s": %s', $keys[$i], $reason), ['key' => $keys[$i]]);
        }

        return $hits;
    }

    /**
     * @internal for Psr16Cache: the value of a validated key, or $default
     */
    public function fetchOne(string $key, mixed $default): mixed
    {
        if ($this->deferred && isset($this->deferred[$key])) {
            $item = $this->fromDeferred($key);

            return $item->isHit() ? $item->get() : $default;
        }
        try {
            return $this->store->get($key, $default);
        } catch (Native\InvalidArgumentException) {
            Ttl::invalidKey($key);
        } catch (\Exception $e) {
            $this->report($e, ['key' => $key]);

            return $default;
        }
    }

    /**
     * @internal writes $value under a string $key expiring at $expiry (ms; null = default
     * lifetime); the native store checks the key
     */
    public function storeOne(string $key, mixed $value, ?int $expiry): bool
    {
        $expiry ??= $this->defaultExpiry();
        if ($expiry !== null && $expiry <= Ttl::nowMs()) {
            return $this->removeMany(Ttl::keys([$key]));
        }
        if ($this->deferred) {
            unset($this->deferred[$key]);
        }
        try {
            $this->store->set($key, $value, $expiry ?? 0);

            return true;
        } catch (Native\InvalidArgumentException) {
            Ttl::invalidKey($key);
        } catch (\Exception $e) {
            $this->reportMessage(\sprintf('LambdaCache: cannot save "%s": %s', $key, $e->getMessage()), ['key' => $key, 'exception' => $e]);

            return false;
        }
    }

    /**
     * @internal writes validated keys => values expiring at $expiry (ms; null = default lifetime)
     * @param array<string|int, mixed> $values
     */
    public function storeMany(array $values, ?int $expiry): bool
    {
        $expiry ??= $this->defaultExpiry();
        $keys = \array_map('strval', \array_keys($values));
        if ($this->deferred) {
            foreach ($keys as $key) {
                unset($this->deferred[$key]);
            }
        }
        if ($expiry !== null && $expiry <= Ttl::nowMs()) {
            return $this->removeMany($keys);
        }
        try {
            $failed = $this->store->setMany($keys, \array_values($values), \array_fill(0, \count($keys), $expiry ?? 0));
        } catch (\Exception $e) {
            $this->report($e, ['keys' => $keys]);

            return false;
        }
        foreach ($failed as $i => $reason) {
            $this->reportMessage(\sprintf('LambdaCache: cannot save "%s": %s', $keys[$i], $reason), ['key' => $keys[$i]]);
        }

        return !$failed;
    }

    /**
     * @internal deletes validated keys
     * @param list<string> $keys
     */
    public function removeMany(array $keys): bool
    {
        foreach ($keys as $key) {
            unset($this->deferred[$key]);
        }
        if (!$keys) {
            return true;
        }
        try {
            $this->store->deleteMany($keys);

            return true;
        } catch (\Exception $e) {
            $this->report($e, ['keys' => $keys]);

            return false;
        }
    }

    /** When an item saved without an expiry expires: after the default lifetime, or never (null). */
    private function defaultExpiry(): ?int
    {
        return $this->defaultLifetime > 0 ? Ttl::toExpiry($this->defaultLifetime, 'defaultLifetime') : null;
    }

    /**
     * Runs $call on the native store, its argument and storage errors thrown as the PSR
     * exceptions (constructors and createTable(): the calls that are allowed to throw).
     *
     * @template T
     * @param \Closure(): T $call
     * @return T
     */
    protected static function native(\Closure $call): mixed
    {
        try {
            return $call();
        } catch (Native\InvalidArgumentException $e) {
            throw new InvalidArgumentException('LambdaCache: ' . $e->getMessage(), 0, $e);
        } catch (Native\StoreException $e) {
            throw new CacheException('LambdaCache: ' . $e->getMessage(), 0, $e);
        }
    }

    private function fromDeferred(string $key): CacheItem
    {
        [, , $expiry] = CacheItem::export($this->deferred[$key]);
        if ($expiry !== null && $expiry <= Ttl::nowMs()) {
            return new CacheItem($key);
        }

        return CacheItem::pending($this->deferred[$key]);
    }

    private function foreign(CacheItemInterface $item): bool
    {
        $this->reportMessage(\sprintf(
            'LambdaCache: cannot save an item of class %s; use items from this pool\'s getItem().',
            \get_class($item)
        ), ['key' => $item->getKey()]);

        return false;
    }

    private function report(\Throwable $e, array $context = []): void
    {
        $this->reportMessage('LambdaCache: ' . $e->getMessage(), $context + ['exception' => $e]);
    }

    private function reportMessage(string $message, array $context): void
    {
        if ($this->strict) {
            throw new CacheException($message, 0, $context['exception'] ?? null);
        }
        if ($this->logger !== null) {
            $this->logger->warning($message, $context);
        } else {
            \trigger_error($message, \E_USER_WARNING);
        }
    }
}
