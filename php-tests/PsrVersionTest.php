<?php

declare(strict_types=1);

namespace LambdaCache\Tests;

use PHPUnit\Framework\TestCase;
use Psr\Cache\CacheException;
use Psr\Cache\CacheItemInterface;
use Psr\Cache\CacheItemPoolInterface;
use Psr\SimpleCache\CacheInterface;

/**
 * The PSR interface versions loaded are the ones LAMBDA_CACHE_PSR asks for (with system: the
 * system's packages, never the fixtures, of the version their signatures and their package say),
 * so that a misconfigured run cannot pass silently, and the LambdaCache classes load against them.
 */
final class PsrVersionTest extends TestCase
{
    /** LAMBDA_CACHE_PSR: '1' (the default), '2', '3', 'system' or 'system:N' (see autoload.php). */
    private static function mode(): string
    {
        $psr = getenv('LAMBDA_CACHE_PSR');
        return ($psr === false || $psr === '') ? '1' : $psr;
    }

    /**
     * The upstream major version of the Debian package that installed $file, or null when dpkg
     * does not know the file (not Debian, or not installed by a package).
     */
    private static function debianPackageMajor(string $file): ?int
    {
        $run = static function (array $cmd): ?string {
            $proc = @proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', '/dev/null', 'w']], $pipes);
            if (!is_resource($proc)) {
                return null;
            }
            $out = (string) stream_get_contents($pipes[1]);
            fclose($pipes[1]);
            return proc_close($proc) === 0 ? trim($out) : null;
        };
        $owner = $run(['dpkg-query', '-S', $file]);
        if ($owner === null || preg_match('/^([a-z0-9][a-z0-9.+-]*)(?::[a-z0-9]+)?: /', $owner, $m) !== 1) {
            return null;
        }
        $version = $run(['dpkg-query', '-W', '-f=${Version}', $m[1]]);
        if ($version === null || preg_match('/^(?:[0-9]+:)?([0-9]+)\./', $version, $v) !== 1) {
            return null;
        }
        return (int) $v[1];
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
        $mode = self::mode();
        $system = str_starts_with($mode, 'system');
        $this->assertSame($mode, LAMBDA_CACHE_TEST_PSR_MODE);
        // system: the version autoload.php read from the signatures, checked against all of them
        // below, and against the installed package's version; system:N: it must be N.
        $version = $system ? LAMBDA_CACHE_TEST_PSR : (int) $mode;
        $this->assertContains($version, [1, 2, 3]);
        $this->assertSame($version, LAMBDA_CACHE_TEST_PSR);
        if (str_starts_with($mode, 'system:')) {
            $this->assertSame((int) substr($mode, strlen('system:')), $version);
        }

        $files = [
            (string) (new \ReflectionClass(CacheItemInterface::class))->getFileName(),
            (string) (new \ReflectionClass(CacheInterface::class))->getFileName(),
        ];
        foreach ($files as $file) {
            if ($version === 1 || $system) {
                $this->assertTrue(
                    str_starts_with($file, '/usr/share/php/') || str_contains($file, '/vendor/'),
                    "PSR interface loaded from {$file}"
                );
                $this->assertFalse(str_contains($file, '/php-tests/fixtures/'), "PSR interface loaded from {$file}");
            } else {
                $this->assertTrue(str_contains($file, "/php-tests/fixtures/psr-"), "PSR interface loaded from {$file}");
                $this->assertTrue(str_contains($file, "-cache-{$version}/"), "PSR interface loaded from {$file}");
            }
            if ($system && str_starts_with($file, '/usr/share/php/')) {
                // What the system claims: the version of the Debian package that installed it.
                $major = self::debianPackageMajor($file);
                if ($major !== null) {
                    $this->assertSame($major, $version, "the package that installed {$file} is version {$major}");
                }
            }
        }
        if (!$system && $version === 1 && str_contains($files[0], '/vendor/')) {
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
