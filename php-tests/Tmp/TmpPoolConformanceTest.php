<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Conformance\PoolConformanceTestCase;
use LambdaCache\Tests\Conformance\PoolIntegrityTests;
use LambdaCache\TmpCachePool;
use Psr\Cache\CacheItemPoolInterface;

/** The PSR-6 conformance suite against the /tmp store. */
final class TmpPoolConformanceTest extends PoolConformanceTestCase
{
    use TmpDirectoryFixture;
    use PoolIntegrityTests;

    protected function childPool(): array
    {
        return ['$pool = new LambdaCache\\TmpCachePool(namespace: $ns, directory: $dir, allowedClasses: true);' . "\n", ['dir' => $this->dir]];
    }

    protected function keyedPool(string $namespace, ?string $integrityKey, ?object $logger = null): CacheItemPoolInterface
    {
        return new TmpCachePool(namespace: $namespace, directory: $this->dir, logger: $logger, integrityKey: $integrityKey);
    }

    /** Changes the bytes in data.mdb in place, as another process on the instance could. */
    protected function changeStoredBytes(string $search, string $replace): int
    {
        $file = "{$this->dir}/data.mdb";
        $bytes = file_get_contents($file);
        $h = fopen($file, 'r+b');
        $n = 0;
        for ($at = strpos($bytes, $search); $at !== false; $at = strpos($bytes, $search, $at + 1)) {
            fseek($h, $at);
            fwrite($h, $replace);
            ++$n;
        }
        fclose($h);

        return $n;
    }
}
