<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\CacheException;
use LambdaCache\DynamoDbCachePool;
use LambdaCache\Psr16Cache;
use LambdaCache\Tests\Support\Items;
use LambdaCache\Tests\Support\TestLogger;

/**
 * Every PSR call against a failing backend, for DynamoFaultTest (which defines OPERATION_MS and
 * MARGIN_MS): each answers a miss or false, reports, and returns within the operation timeout;
 * on strict pools each throws LambdaCache\CacheException.
 */
trait FaultChecks
{

    /**
     * The PSR-6 and PSR-16 calls to check: label => [call, expected result]. The items to save
     * come from $itemSource, a pool that works (getItem() on a strict pool would throw here).
     *
     * @return array<string, array{0: callable(): mixed, 1: mixed}>
     */
    private static function faultCalls(DynamoDbCachePool $pool, DynamoDbCachePool $itemSource): array
    {
        $cache = new Psr16Cache($pool);
        $item = $itemSource->getItem('fresh-item')->set('new value');
        $deferred = $itemSource->getItem('fresh-deferred')->set('deferred value');
        $hits = static function (iterable $items): array {
            $out = [];
            foreach ($items as $key => $it) {
                $out[$key] = $it->isHit() ? $it->get() : 'miss';
            }
            return $out;
        };
        return [
            'getItem' => [static function () use ($pool): array {
                $item = $pool->getItem('seed');
                return [$item->isHit(), $item->get()];
            }, [false, null]],
            'hasItem' => [static fn () => $pool->hasItem('seed'), false],
            'getItems' => [static fn () => $hits($pool->getItems(['seed', 'other'])), ['seed' => 'miss', 'other' => 'miss']],
            'save' => [static fn () => $pool->save($item), false],
            'saveDeferred + commit' => [static fn () => [$pool->saveDeferred($deferred), $pool->commit()], [true, false]],
            'deleteItem' => [static fn () => $pool->deleteItem('seed'), false],
            'deleteItems' => [static fn () => $pool->deleteItems(['seed', 'other']), false],
            'clear' => [static fn () => $pool->clear(), false],
            'Psr16Cache::get' => [static fn () => $cache->get('seed', 'default'), 'default'],
            'Psr16Cache::set' => [static fn () => $cache->set('seed', 'new value'), false],
            'Psr16Cache::getMultiple' => [static fn () => Items::toArray($cache->getMultiple(['seed', 'other'], 'default')), ['seed' => 'default', 'other' => 'default']],
        ];
    }

    /** @return list<string> what went wrong, empty when every call was contained */
    private function containmentFailures(DynamoDbCachePool $pool, DynamoDbCachePool $itemSource, TestLogger $logger, string $label): array
    {
        $failures = [];
        foreach (self::faultCalls($pool, $itemSource) as $name => [$call, $expected]) {
            $logger->reset();
            $start = hrtime(true);
            try {
                $result = $call();
            } catch (\Throwable $e) {
                $failures[] = "{$label}, {$name}: threw " . get_class($e) . ': ' . $e->getMessage();
                continue;
            }
            $ms = (hrtime(true) - $start) / 1e6;
            if ($result !== $expected) {
                $failures[] = "{$label}, {$name}: returned " . json_encode($result) . ', expected ' . json_encode($expected);
            }
            if ($ms > self::OPERATION_MS + self::MARGIN_MS) {
                $failures[] = sprintf('%s, %s: took %d ms (operationTimeoutMs %d)', $label, $name, $ms, self::OPERATION_MS);
            }
            $messages = $logger->warnings();
            if ($messages === []) {
                $failures[] = "{$label}, {$name}: nothing was reported";
            }
            foreach ($messages as $message) {
                if (!str_starts_with($message, 'LambdaCache:')) {
                    $failures[] = "{$label}, {$name}: report does not start with 'LambdaCache:': {$message}";
                }
            }
        }
        return $failures;
    }

    /** @return list<string> what went wrong, empty when every call threw a CacheException in time */
    private function strictFailures(DynamoDbCachePool $strict, DynamoDbCachePool $itemSource, string $label): array
    {
        $failures = [];
        foreach (self::faultCalls($strict, $itemSource) as $name => [$call]) {
            $start = hrtime(true);
            try {
                $result = $call();
                $failures[] = "{$label}, {$name}: no exception, returned " . json_encode($result);
            } catch (CacheException $e) {
                if (!$e instanceof \Psr\Cache\CacheException) {
                    $failures[] = "{$label}, {$name}: the exception is not a Psr\\Cache\\CacheException";
                }
            } catch (\Throwable $e) {
                $failures[] = "{$label}, {$name}: threw " . get_class($e) . ' instead of LambdaCache\CacheException: ' . $e->getMessage();
            }
            $ms = (hrtime(true) - $start) / 1e6;
            if ($ms > self::OPERATION_MS + self::MARGIN_MS) {
                $failures[] = sprintf('%s, %s: took %d ms (operationTimeoutMs %d)', $label, $name, $ms, self::OPERATION_MS);
            }
        }
        return $failures;
    }
}
