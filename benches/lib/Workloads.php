<?php

declare(strict_types=1);

namespace LcBench;

/** A workload: what is measured, and how to prepare one implementation for it. */
final class Workload
{
    /** @param \Closure(Impl, TempDirs): Subject $prepare */
    public function __construct(
        public readonly string $id,
        public readonly string $title,
        public readonly string $unit,
        public readonly string $note,
        public readonly \Closure $prepare,
        /** @var ?list<string> implementations measured (default: all) */
        public readonly ?array $impls = null,
    ) {
    }
}

const KEY_COUNT = 100;
/** The scaling rows: id => [key count, array values]; random hits over the whole key set. */
const SCALE_ROWS = ['g' => [1_000, false], 'h' => [10_000, false], 'i' => [100_000, false],
    'j' => [1_000, true], 'k' => [10_000, true], 'l' => [100_000, true]];
/** Ours' budget in the scaling rows: 100,000 arrays of ~1.3 KB pass 80% of the default 128 MiB. */
const SCALE_MAX_BYTES = 512 << 20;
/** The length of stringValue()'s strings. */
const STRING_LENGTH = 200;

/** A 200-byte string, different per key. */
function stringValue(int $seed): string
{
    return substr(str_repeat(hash('sha256', "value-{$seed}"), 4), 0, STRING_LENGTH);
}

/**
 * How many of a getItems() result's $count items are wrong: a miss, not a stringValue(), or
 * missing from the result. Called once per getItems() call, not per item.
 */
function badStringItems(iterable $items, int $count): int
{
    $bad = 0;
    $seen = 0;
    foreach ($items as $item) {
        ++$seen;
        if (!$item->isHit() || !\is_string($v = $item->get()) || \strlen($v) !== STRING_LENGTH) {
            ++$bad;
        }
    }

    return $bad + $count - $seen;
}

/** 50 elements: ints, strings, floats and nested arrays, string and int keys. */
function arrayValue(): array
{
    $value = [];
    for ($i = 0; $i < 50; ++$i) {
        $value[$i % 2 === 0 ? "field{$i}" : $i] = match ($i % 4) {
            0 => $i * 1000 + 7,
            1 => "string value number {$i}",
            2 => $i * 1.25 + 0.1,
            default => ['id' => $i, 'tags' => ['alpha', 'beta'], 'ratio' => $i / 7, 'on' => true],
        };
    }

    return $value;
}

/** @return list<string> */
function keys(string $prefix, int $count = KEY_COUNT): array
{
    return array_map(static fn (int $i) => $prefix . $i, range(0, $count - 1));
}

/** Holds the pool (and PSR-16 cache) of one implementation so teardown can release them. */
final class State
{
    public ?\Psr\Cache\CacheItemPoolInterface $pool = null;
    public ?\Psr\SimpleCache\CacheInterface $cache = null;
    public ?string $dir = null;
    public int $counter = 0;
    public int $lastReset = 0;

    public function open(Impl $impl, TempDirs $tmp, string $workload, ?int $maxBytes = null): void
    {
        $this->close();
        $impl->reset();
        $this->dir = $tmp->fresh("{$workload}-{$impl->id}");
        $this->pool = $impl->pool($this->dir, $maxBytes);
    }

    public function close(): void
    {
        $this->cache = null;
        $this->pool = null;
        gc_collect_cycles();
        if ($this->dir !== null) {
            TempDirs::remove($this->dir);
            $this->dir = null;
        }
    }
}

function prefill(State $s, array $keys, mixed $value, bool $psr16): void
{
    foreach ($keys as $key) {
        $ok = $psr16 ? $s->cache->set($key, $value) : $s->pool->save($s->pool->getItem($key)->set($value));
        if ($ok !== true) {
            throw new \RuntimeException("prefill: saving '{$key}' failed");
        }
    }
}

/** $count keys read in rotation (100) or, more, in a random order over all of them. */
function hitSubject(Impl $impl, TempDirs $tmp, string $id, bool $array, int $count = KEY_COUNT): Subject
{
    $s = new State();
    $s->open($impl, $tmp, $id, $count > KEY_COUNT ? SCALE_MAX_BYTES : null);
    $keys = keys($array ? 'arr' : 'str', $count);
    prefill($s, $keys, $array ? arrayValue() : stringValue(1), false);
    if ($count > KEY_COUNT) {
        mt_srand(13);
        shuffle($keys);
    }
    $batch = $array
        ? static function (int $n) use ($s, $keys, $count): int {
            [$pool, $p, $bad] = [$s->pool, $s->counter, 0];
            for ($i = 0; $i < $n; ++$i) {
                $item = $pool->getItem($keys[$p++ % $count]);
                if (!$item->isHit() || !\is_array($v = $item->get()) || \count($v) !== 50) {
                    ++$bad;
                }
            }
            $s->counter = $p;

            return $bad;
        }
        : static function (int $n) use ($s, $keys, $count): int {
            [$pool, $p, $bad] = [$s->pool, $s->counter, 0];
            for ($i = 0; $i < $n; ++$i) {
                $item = $pool->getItem($keys[$p++ % $count]);
                if (!$item->isHit() || !\is_string($v = $item->get()) || \strlen($v) !== STRING_LENGTH) {
                    ++$bad;
                }
            }
            $s->counter = $p;

            return $bad;
        };

    return new Subject($batch, teardown: $s->close(...));
}

/**
 * Ours only: $saves save()s of new 200-byte strings into a fresh directory with the default
 * budget, each timed; the worst is the save that evicts.
 */
function worstSave(TempDirs $tmp, int $saves): array
{
    $pool = new \LambdaCache\TmpCachePool(namespace: Impl::NAMESPACE, directory: $dir = $tmp->fresh('w'));
    [$value, $worst, $at, $worstCpu, $failed, $t] = [stringValue(5), 0, 0, 0, 0, hrtime(true)];
    for ($i = 0; $i < $saves; ++$i) {
        $item = $pool->getItem("k{$i}")->set($value);
        [$c0, $t0] = [Sampler::cpuMicros(), hrtime(true)];
        $failed += $pool->save($item) ? 0 : 1;
        [$d, $c] = [hrtime(true) - $t0, Sampler::cpuMicros() - $c0];
        [$worst, $at, $worstCpu] = $d > $worst ? [$d, $i, $worstCpu] : [$worst, $at, $worstCpu];
        $worstCpu = max($worstCpu, $c);
    }
    $stats = $pool->stats() + ['saves' => $saves, 'failed' => $failed, 'worst_ms' => $worst / 1e6, 'worst_at' => $at,
        'worst_cpu_ms' => $worstCpu / 1e3, 'seconds' => (hrtime(true) - $t) / 1e9];
    unset($pool);
    TempDirs::remove($dir);

    return $stats;
}
function saveSubject(Impl $impl, TempDirs $tmp): Subject
{
    $s = new State();
    $value = stringValue(2);
    $batch = static function (int $n) use ($s, $value): int {
        $pool = $s->pool;
        $c = $s->counter;
        $bad = 0;
        for ($i = 0; $i < $n; ++$i) {
            $item = $pool->getItem('new' . $c++);
            $item->set($value);
            if ($pool->save($item) !== true) {
                ++$bad;
            }
        }
        $s->counter = $c;

        return $bad;
    };
    $shared = $impl->hasSharedBackend();
    // APCu keeps everything in apc.shm_size (32M by default): empty it, untimed, every 20,000 keys.
    $between = $shared ? static function () use ($s, $impl): void {
        if ($s->counter - $s->lastReset >= 20_000) {
            $impl->reset();
            $s->lastReset = $s->counter;
        }
    } : null;
    $before = static function () use ($s, $impl, $tmp): void {
        $s->open($impl, $tmp, 'c');
        $s->lastReset = $s->counter;
    };

    return new Subject($batch, $before, $between, $shared ? 5_000 : 1 << 20, $s->close(...));
}

function getItemsSubject(Impl $impl, TempDirs $tmp): Subject
{
    $s = new State();
    $s->open($impl, $tmp, 'd');
    $keys = keys('str');
    prefill($s, $keys, stringValue(3), false);
    $batch = static function (int $n) use ($s, $keys): int {
        $pool = $s->pool;
        $bad = 0;
        for ($i = 0; $i < $n; ++$i) {
            $bad += badStringItems($pool->getItems($keys), KEY_COUNT);
        }

        return $bad;
    };

    return new Subject($batch, teardown: $s->close(...));
}

function psr16Subject(Impl $impl, TempDirs $tmp, string $id, bool $set): Subject
{
    $s = new State();
    $s->open($impl, $tmp, $id);
    $s->cache = $impl->psr16($s->pool);
    $keys = keys('psr');
    $value = stringValue(4);
    prefill($s, $keys, $value, true);
    $batch = $set
        ? static function (int $n) use ($s, $keys, $value): int {
            $cache = $s->cache;
            $bad = 0;
            for ($i = 0; $i < $n; ++$i) {
                if ($cache->set($keys[$i % KEY_COUNT], $value) !== true) {
                    ++$bad;
                }
            }

            return $bad;
        }
        : static function (int $n) use ($s, $keys): int {
            $cache = $s->cache;
            $bad = 0;
            for ($i = 0; $i < $n; ++$i) {
                if (!\is_string($v = $cache->get($keys[$i % KEY_COUNT])) || \strlen($v) !== STRING_LENGTH) {
                    ++$bad;
                }
            }

            return $bad;
        };

    return new Subject($batch, teardown: $s->close(...));
}

/** @return array<string, Workload> */
function workloads(): array
{
    $list = [
        new Workload('a', 'getItem() hit, 200-byte string', 'getItem/s',
            '100 existing keys in rotation; each op calls getItem(), isHit() and get() and checks the value',
            static fn (Impl $i, TempDirs $t) => hitSubject($i, $t, 'a', false)),
        new Workload('b', 'getItem() hit, 50-element mixed array', 'getItem/s',
            '100 existing keys; value: ints, strings, floats, nested arrays; get() checked (count 50)',
            static fn (Impl $i, TempDirs $t) => hitSubject($i, $t, 'b', true)),
        new Workload('c', 'save() of a new key, 200-byte string, fresh directory', 'save/s',
            'each op: getItem(new key) + set() + save(); new directory per sample (APCu: apcu_clear_cache() '
            . 'per sample and, untimed, every 20,000 keys to stay inside apc.shm_size)',
            static fn (Impl $i, TempDirs $t) => saveSubject($i, $t)),
        new Workload('d', 'getItems(100), all hits, result iterated', 'calls/s',
            'one op = one getItems() call over the same 100 existing keys; every item checked',
            static fn (Impl $i, TempDirs $t) => getItemsSubject($i, $t)),
        new Workload('e', 'PSR-16 get() hit, 200-byte string', 'get/s',
            '100 existing keys in rotation; peers through Symfony\Component\Cache\Psr16Cache',
            static fn (Impl $i, TempDirs $t) => psr16Subject($i, $t, 'e', false)),
        new Workload('f', 'PSR-16 set(), overwrite of existing keys, 200-byte string', 'set/s',
            '100 existing keys in rotation, every set() overwrites an existing entry; peers through Symfony Psr16Cache',
            static fn (Impl $i, TempDirs $t) => psr16Subject($i, $t, 'f', true)),
    ];
    foreach (SCALE_ROWS as $id => [$count, $array]) {
        $list[] = new Workload($id, sprintf('getItem() hit, %s, %s keys', $array ? '50-element array' : '200-byte string',
            number_format($count)), 'getItem/s', "random order over all {$count} existing keys, a new order each pass"
            . ' in effect (one shuffled list, cycled); ours with maxBytes 512 MiB, APCu needs apc.shm_size >= 256M',
            static fn (Impl $i, TempDirs $t) => hitSubject($i, $t, $id, $array, $count), ['ours', 'phpfiles', 'apcu']);
    }
    $byId = [];
    foreach ($list as $w) {
        $byId[$w->id] = $w;
    }

    return $byId;
}
