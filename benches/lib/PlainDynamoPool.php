<?php

declare(strict_types=1);

/*
 * A minimal hand-written PSR-6 adapter over dev/DynamoClient.php: the peer of DynamoDbCachePool.
 * Items are `id` (S) = "<namespace>:<key>", `value` (B) = serialize()d value (base64 on the wire,
 * as the JSON protocol carries B), `ttl` (N, epoch seconds) when the item expires; expiry is
 * checked on every read. Signatures work with psr/cache 1.0, 2.0 and 3.0 (untyped parameters,
 * 3.0 return types). Backend errors are thrown, not swallowed, so the bench reports them.
 */

namespace LcBench;

use Psr\Cache\CacheItemInterface;
use Psr\Cache\CacheItemPoolInterface;

final class PlainInvalidKey extends \InvalidArgumentException implements \Psr\Cache\InvalidArgumentException
{
}

final class PlainDynamoItem implements CacheItemInterface
{
    /** @internal */
    public ?int $expiry = null;

    /** @internal */
    public function __construct(
        private readonly string $key,
        public mixed $value = null,
        private readonly bool $hit = false,
    ) {
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
        return $this->hit;
    }

    public function set($value): static
    {
        $this->value = $value;

        return $this;
    }

    public function expiresAt($expiration): static
    {
        $this->expiry = $expiration instanceof \DateTimeInterface ? $expiration->getTimestamp() : null;

        return $this;
    }

    public function expiresAfter($time): static
    {
        $this->expiry = match (true) {
            $time instanceof \DateInterval => (new \DateTimeImmutable())->add($time)->getTimestamp(),
            \is_int($time) => time() + $time,
            default => null,
        };

        return $this;
    }
}

final class PlainDynamoPool implements CacheItemPoolInterface
{
    /** @var array<string, PlainDynamoItem> */
    private array $deferred = [];

    public function __construct(
        private readonly \LambdaCache\Dev\DynamoClient $client,
        private readonly string $table,
        private readonly string $namespace = '',
        private readonly bool $consistentRead = false,
    ) {
    }

    public function __destruct()
    {
        $this->commit();
    }

    public function getItem($key): CacheItemInterface
    {
        $id = $this->id($key);
        if (isset($this->deferred[$key])) {
            return $this->fromDeferred($key);
        }

        return $this->item($key, $this->client->getItem($this->table, $id, $this->consistentRead));
    }

    public function getItems(array $keys = []): iterable
    {
        $ids = [];
        foreach ($keys as $key) {
            $ids[$key] = $this->id($key);
        }
        $found = $ids === [] ? [] : $this->client->batchGetItem($this->table, array_values($ids), $this->consistentRead);
        $items = [];
        foreach ($ids as $key => $id) {
            $items[$key] = isset($this->deferred[$key]) ? $this->fromDeferred((string) $key)
                : $this->item((string) $key, $found[$id] ?? null);
        }

        return $items;
    }

    public function hasItem($key): bool
    {
        return $this->getItem($key)->isHit();
    }

    /** Scans this namespace's ids and deletes them one by one (not used by the bench). */
    public function clear(): bool
    {
        $this->deferred = [];
        $input = ['TableName' => $this->table, 'ProjectionExpression' => 'id',
            'FilterExpression' => 'begins_with(id, :p)', 'ExpressionAttributeValues' => [':p' => ['S' => $this->namespace . ':']]];
        do {
            $page = $this->client->call('Scan', $input);
            foreach ($page['Items'] ?? [] as $item) {
                $this->client->deleteItem($this->table, $item['id']['S']);
            }
            $input['ExclusiveStartKey'] = $page['LastEvaluatedKey'] ?? null;
        } while ($input['ExclusiveStartKey'] !== null);

        return true;
    }

    public function deleteItem($key): bool
    {
        $id = $this->id($key);
        unset($this->deferred[$key]);
        $this->client->deleteItem($this->table, $id);

        return true;
    }

    public function deleteItems(array $keys): bool
    {
        $ids = array_map($this->id(...), $keys);
        foreach ($keys as $i => $key) {
            unset($this->deferred[$key]);
            $this->client->deleteItem($this->table, $ids[$i]);
        }

        return true;
    }

    public function save(CacheItemInterface $item): bool
    {
        if (!$item instanceof PlainDynamoItem) {
            return false;
        }
        $id = $this->id($item->getKey());
        if ($item->expiry !== null && $item->expiry <= time()) {
            $this->client->deleteItem($this->table, $id);

            return true;
        }
        $attributes = ['id' => ['S' => $id], 'value' => ['B' => base64_encode(serialize($item->value))]];
        if ($item->expiry !== null) {
            $attributes['ttl'] = ['N' => (string) $item->expiry];
        }
        $this->client->putItem($this->table, $attributes);

        return true;
    }

    public function saveDeferred(CacheItemInterface $item): bool
    {
        if (!$item instanceof PlainDynamoItem) {
            return false;
        }
        $this->deferred[$item->getKey()] = clone $item;

        return true;
    }

    /** One PutItem per deferred item. */
    public function commit(): bool
    {
        $ok = true;
        foreach ($this->deferred as $key => $item) {
            unset($this->deferred[$key]);
            $ok = $this->save($item) && $ok;
        }

        return $ok;
    }

    private function id(mixed $key): string
    {
        if (!\is_string($key) || $key === '' || strpbrk($key, '{}()/\\@:') !== false) {
            throw new PlainInvalidKey('invalid cache key: ' . get_debug_type($key) . (\is_string($key) ? " '{$key}'" : ''));
        }

        return $this->namespace . ':' . $key;
    }

    private function item(string $key, ?array $attributes): PlainDynamoItem
    {
        if ($attributes === null || (isset($attributes['ttl']['N']) && (int) $attributes['ttl']['N'] <= time())) {
            return new PlainDynamoItem($key);
        }
        $bytes = base64_decode($attributes['value']['B'] ?? '', true);
        $value = $bytes === false ? false : unserialize($bytes, ['allowed_classes' => false]);
        if ($value === false && $bytes !== serialize(false)) {
            return new PlainDynamoItem($key);
        }
        $item = new PlainDynamoItem($key, $value, true);
        $item->expiry = isset($attributes['ttl']['N']) ? (int) $attributes['ttl']['N'] : null;

        return $item;
    }

    private function fromDeferred(string $key): PlainDynamoItem
    {
        $deferred = $this->deferred[$key];
        if ($deferred->expiry !== null && $deferred->expiry <= time()) {
            return new PlainDynamoItem($key);
        }
        $item = new PlainDynamoItem($key, $deferred->value, true);
        $item->expiry = $deferred->expiry;

        return $item;
    }
}
