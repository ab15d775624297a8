<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Tmp;

use LambdaCache\Tests\Conformance\SimpleCacheConformanceTestCase;

/** The PSR-16 conformance suite against the /tmp store. */
final class TmpSimpleCacheConformanceTest extends SimpleCacheConformanceTestCase
{
    use TmpDirectoryFixture;
}
