<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Conformance\PoolConformanceTestCase;

/** The PSR-6 conformance suite against the /tmp store. */
final class TmpPoolConformanceTest extends PoolConformanceTestCase
{
    use TmpDirectoryFixture;

    protected function childPool(): array
    {
        return ['$pool = new LambdaCache\\TmpCachePool(namespace: $ns, directory: $dir, allowedClasses: true);' . "\n", ['dir' => $this->dir]];
    }
}
