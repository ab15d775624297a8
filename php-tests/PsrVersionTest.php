<?php

declare(strict_types=1);

namespace LambdaCache\Tests;

use PHPUnit\Framework\TestCase;
use Psr\Cache\CacheException;
use Psr\Cache\CacheItemInterface;
use Psr\Cache\CacheItemPoolInterface;
use Psr\SimpleCache\CacheInterface;

/**
 * The PSR interface versions loaded are the ones LAMBDA_CACHE_PSR asks for, so that a
 * misconfigured run cannot pass silently, and the LambdaCache classes load against them.
 */
final class PsrVersionTest extends TestCase
{
    private static function expected(): int
    {
        $psr = getenv('LAMBDA_CACHE_PSR');
        return ($psr === false || $psr === '') ? 1 : (int) $psr;
    }

    private static function returnType(string $class, string $method): ?string
    {
        $type = (new \ReflectionMethod($class, $method))->getReturnType();
        return $type === null ? null : (string) $type;
    }

    private static function firstParameterType(string $class, string $method): ?string
    {
        $type = (new \ReflectionMethod($class, $method))->getParameters()[0]->getType();
        return $type === null ? null : (string) $type;
    }

    public function testTheRequestedInterfaceVersionIsLoaded(): void
    {
        $version = self::expected();
        $this->assertSame($version, LAMBDA_CACHE_TEST_PSR);

        $files = [
            (new \ReflectionClass(CacheItemInterface::class))->getFileName(),
            (new \ReflectionClass(CacheInterface::class))->getFileName(),
        ];
        foreach ($files as $file) {
            if ($version === 1) {
                $this->assertTrue(
                    str_starts_with($file, '/usr/share/php/') || str_contains($file, '/vendor/'),
                    "PSR interface loaded from {$file}"
                );
            } else {
                $this->assertTrue(str_contains($file, "/php-tests/fixtures/psr-"), "PSR interface loaded from {$file}");
                $this->assertTrue(str_contains($file, "-cache-{$version}/"), "PSR interface loaded from {$file}");
            }
        }
        if ($version === 1 && str_contains((string) $files[0], '/vendor/')) {
            return; // Composer's psr/cache may be any version; the Debian checks below do not apply.
        }

        $expectations = [
            // [class, method, parameter type 1/2/3, return type 1/2/3]
            [CacheItemInterface::class, 'get', null, [null, null, 'mixed']],
            [CacheItemInterface::class, 'set', [null, 'mixed', 'mixed'], [null, null, 'static']],
            [CacheItemInterface::class, 'expiresAfter', [null, 'DateInterval|int|null', 'DateInterval|int|null'], [null, null, 'static']],
            [CacheItemPoolInterface::class, 'getItem', [null, 'string', 'string'], [null, null, 'Psr\\Cache\\CacheItemInterface']],
            [CacheItemPoolInterface::class, 'getItems', ['array', 'array', 'array'], [null, null, 'iterable']],
            [CacheItemPoolInterface::class, 'save', ['Psr\\Cache\\CacheItemInterface', 'Psr\\Cache\\CacheItemInterface', 'Psr\\Cache\\CacheItemInterface'], [null, null, 'bool']],
            [CacheItemPoolInterface::class, 'commit', null, [null, null, 'bool']],
            [CacheInterface::class, 'get', [null, 'string', 'string'], [null, null, 'mixed']],
            [CacheInterface::class, 'set', [null, 'string', 'string'], [null, null, 'bool']],
            [CacheInterface::class, 'getMultiple', [null, 'iterable', 'iterable'], [null, null, 'iterable']],
        ];
        foreach ($expectations as [$class, $method, $param, $return]) {
            if ($param !== null) {
                $this->assertSame($param[$version - 1], self::firstParameterType($class, $method), "parameter of {$class}::{$method}");
            }
            $this->assertSame($return[$version - 1], self::returnType($class, $method), "return type of {$class}::{$method}");
        }
        $this->assertSame($version >= 2, is_subclass_of(CacheException::class, \Throwable::class));
        $this->assertSame($version >= 2, is_subclass_of(\Psr\SimpleCache\CacheException::class, \Throwable::class));
    }

    public function testLambdaCacheClassesImplementTheLoadedInterfaces(): void
    {
        $this->assertTrue(extension_loaded('lambda_cache'));
        $this->assertTrue(is_subclass_of(\LambdaCache\TmpCachePool::class, CacheItemPoolInterface::class));
        $this->assertTrue(is_subclass_of(\LambdaCache\CacheItem::class, CacheItemInterface::class));
        $this->assertTrue(is_subclass_of(\LambdaCache\Psr16Cache::class, CacheInterface::class));
        $this->assertTrue(is_subclass_of(\LambdaCache\InvalidArgumentException::class, \Psr\Cache\InvalidArgumentException::class));
        $this->assertTrue(is_subclass_of(\LambdaCache\InvalidArgumentException::class, \Psr\SimpleCache\InvalidArgumentException::class));
    }
}
