<?php

declare(strict_types=1);

/*
 * dynamo.php's implementations (our DynamoDbCachePool, the plain PHP client's PSR-6 adapter) and
 * workloads a-d against the emulator, e-g (the reads of a, c and d) through the RTT proxy
 * (dev/FaultProxy.php, mode delay:MS). Reuses Workload and stringValue() from Workloads.php.
 */

namespace LcBench;

use Psr\Cache\CacheItemPoolInterface;

const DYNAMO_WORKLOADS = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
/** The workloads that run through the RTT proxy, on the implementations pointed at it. */
const DYNAMO_RTT_WORKLOADS = ['e', 'f', 'g'];
/** Fresh items kept ready for the save workload: a batch never saves more than this. */
const SAVE_QUEUE = 200;

/** One implementation: builds a new PSR-6 pool over the bench's table. */
final class DynImpl
{
    /**
     * @param \Closure(): CacheItemPoolInterface $pool
     * @param list<DynImpl> $direct the same implementation straight at each emulator behind the
     *                              RTT proxy: the RTT ones fill their keys through these
     */
    public function __construct(
        public readonly string $id,
        public readonly string $label,
        private readonly \Closure $pool,
        public readonly ?string $unavailable = null,
        public readonly array $direct = [],
    ) {
    }

    public function pool(): CacheItemPoolInterface
    {
        return ($this->pool)();
    }

    /**
     * The pools for an untimed prefill: $timed itself, or for an RTT implementation a pool of the
     * same implementation straight at each emulator behind the proxy (every replica gets the same
     * items; and the plain pool commits one PutItem per key: 1,000 keys through the proxy would
     * take 10 s at 10 ms).
     *
     * @return list<CacheItemPoolInterface>
     */
    public function prefillPools(CacheItemPoolInterface $timed): array
    {
        return $this->direct === [] ? [$timed] : array_map(static fn (DynImpl $d) => $d->pool(), $this->direct);
    }
}

/**
 * Ours first, then the peer. With $direct (per emulator behind the RTT proxy, the implementations
 * straight at it), the same two pointed at $endpoint, the RTT proxy: ours through its endpoint:
 * option, the plain client with a client (its own curl handle) whose endpoint is the proxy.
 *
 * @param list<list<DynImpl>> $direct
 * @return list<DynImpl>
 */
function dynamoImplementations(string $table, string $endpoint, \LambdaCache\Dev\DynamoClient $client, ?string $oursUnavailable,
    array $direct = []): array
{
    return [
        new DynImpl('ours', 'LambdaCache DynamoDbCachePool',
            static fn () => new \LambdaCache\DynamoDbCachePool(table: $table, namespace: 'bench', endpoint: $endpoint),
            $oursUnavailable, array_column($direct, 0)),
        new DynImpl('plain', 'plain PHP client (curl+SigV4)',
            static fn () => new PlainDynamoPool($client, $table, 'plain'), null, array_column($direct, 1)),
    ];
}

/** @return list<string> */
function manyKeys(string $prefix, int $count): array
{
    return array_map(static fn (int $i) => $prefix . $i, range(0, $count - 1));
}

/** Saves every key (saveDeferred + commit), then checks, untimed, that each one reads back. */
function prefillDynamo(CacheItemPoolInterface $pool, array $keys, string $value): void
{
    foreach ($keys as $key) {
        $pool->saveDeferred($pool->getItem($key)->set($value));
    }
    if ($pool->commit() !== true) {
        throw new \RuntimeException('prefill: commit() returned false');
    }
    $hits = 0;
    foreach ($pool->getItems($keys) as $item) {
        $hits += $item->isHit() && $item->get() === $value ? 1 : 0;
    }
    if ($hits !== \count($keys)) {
        throw new \RuntimeException(sprintf('prefill: only %d of %d saved keys read back', $hits, \count($keys)));
    }
}

function dynamoHitSubject(DynImpl $impl): Subject
{
    $pool = $impl->pool();
    $keys = manyKeys('hit', 100);
    foreach ($impl->prefillPools($pool) as $target) {
        prefillDynamo($target, $keys, stringValue(1));
    }
    $batch = static function (int $n) use ($pool, $keys): int {
        $bad = 0;
        for ($i = 0; $i < $n; ++$i) {
            $item = $pool->getItem($keys[$i % 100]);
            if (!$item->isHit() || !\is_string($v = $item->get()) || \strlen($v) !== STRING_LENGTH) {
                ++$bad;
            }
        }

        return $bad;
    };

    return new Subject($batch);
}

/**
 * save() of items for new keys. The items come, untimed, from getItems() over fresh keys in
 * the hooks before a sample and between batches, so the timed op is set() + save() alone (one
 * write), not a GetItem miss as well.
 */
function dynamoSaveSubject(DynImpl $impl): Subject
{
    $pool = $impl->pool();
    $value = stringValue(2);
    $s = new \stdClass();
    $s->queue = [];
    $s->next = 0;
    $refill = static function () use ($pool, $s): void {
        while (\count($s->queue) < SAVE_QUEUE) {
            $keys = [];
            for ($i = 0; $i < 100; ++$i) {
                $keys[] = 'new' . $s->next++;
            }
            foreach ($pool->getItems($keys) as $item) {
                $s->queue[] = $item;
            }
        }
    };
    $batch = static function (int $n) use ($pool, $s, $value): int {
        $bad = 0;
        for ($i = 0; $i < $n; ++$i) {
            if ($pool->save(array_pop($s->queue)->set($value)) !== true) {
                ++$bad;
            }
        }

        return $bad;
    };

    return new Subject($batch, $refill, $refill, SAVE_QUEUE);
}

function dynamoGetItemsSubject(DynImpl $impl, int $count): Subject
{
    $pool = $impl->pool();
    $keys = manyKeys("many{$count}_", $count);
    foreach ($impl->prefillPools($pool) as $target) {
        prefillDynamo($target, $keys, stringValue(3));
    }
    $batch = static function (int $n) use ($pool, $keys, $count): int {
        $bad = 0;
        for ($i = 0; $i < $n; ++$i) {
            $bad += badStringItems($pool->getItems($keys), $count);
        }

        return $bad;
    };

    return new Subject($batch);
}

/**
 * e-g run with the implementations pointed at the RTT proxy ($rttMs: its delay per request;
 * $emulators: how many emulators it spreads requests over).
 *
 * @return array<string, Workload> prepare: \Closure(DynImpl): Subject
 */
function dynamoWorkloads(int $rttMs, int $emulators = 1): array
{
    $rtt = "through the RTT proxy, {$rttMs} ms per request"
        . ($emulators > 1 ? ", its requests spread over {$emulators} emulators holding the same items" : '');
    $list = [
        new Workload('a', 'getItem() hit, 200-byte string', 'getItem/s',
            '100 existing keys in rotation; each op: getItem() + isHit() + get(), value checked (one GetItem)',
            static fn (DynImpl $i) => dynamoHitSubject($i)),
        new Workload('b', 'save() of a new key, 200-byte string', 'save/s',
            'each op: set() + save() of an item for a new key (one PutItem); the items come from getItems() '
            . 'over fresh keys, untimed, between batches',
            static fn (DynImpl $i) => dynamoSaveSubject($i)),
        new Workload('c', 'getItems(100), all hits, result iterated', 'calls/s',
            'one op = one getItems() call over the same 100 existing keys (one BatchGetItem); every item checked',
            static fn (DynImpl $i) => dynamoGetItemsSubject($i, 100)),
        new Workload('d', 'getItems(1000), all hits, result iterated', 'calls/s',
            'one op = one getItems() call over the same 1,000 existing keys (10 BatchGetItem chunks: ours joins '
            . 'them concurrently, the plain client sends them one after the other); every item checked',
            static fn (DynImpl $i) => dynamoGetItemsSubject($i, 1000)),
        new Workload('e', "getItem() hit, 200-byte string, RTT {$rttMs} ms", 'getItem/s',
            "a {$rtt}: one GetItem = one round trip for both",
            static fn (DynImpl $i) => dynamoHitSubject($i)),
        new Workload('f', "getItems(100), all hits, RTT {$rttMs} ms", 'calls/s',
            "c {$rtt}: one BatchGetItem = one round trip for both",
            static fn (DynImpl $i) => dynamoGetItemsSubject($i, 100)),
        new Workload('g', "getItems(1000), all hits, RTT {$rttMs} ms", 'calls/s',
            "d {$rtt}: ours sends the 10 chunks at once on separate kept-alive connections (one round trip), "
            . 'the plain client one after the other (ten round trips)',
            static fn (DynImpl $i) => dynamoGetItemsSubject($i, 1000)),
    ];
    $byId = [];
    foreach ($list as $w) {
        $byId[$w->id] = $w;
    }

    return $byId;
}
