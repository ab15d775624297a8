<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Support\TempDir;
use LambdaCache\TmpCachePool;
use Psr\Cache\CacheItemPoolInterface;

/** A fresh store directory per test (never reused), removed afterwards. */
trait TmpDirectoryFixture
{
    protected string $parentDir = '';
    protected string $dir = '';

    protected function setUp(): void
    {
        $this->parentDir = TempDir::create('tmp-store');
        $this->dir = $this->parentDir . '/store';
    }

    protected function tearDown(): void
    {
        gc_collect_cycles();
        TempDir::remove($this->parentDir);
    }

    protected function createPool(
        string $namespace = 'test',
        int $defaultLifetime = 0,
        bool|array|null $allowedClasses = null,
        ?object $logger = null
    ): CacheItemPoolInterface {
        $options = ['namespace' => $namespace, 'defaultLifetime' => $defaultLifetime, 'directory' => $this->dir, 'logger' => $logger];
        if ($allowedClasses !== null) {
            $options['allowedClasses'] = $allowedClasses;
        }

        return new TmpCachePool(...$options);
    }
}
