<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\Tests\Conformance\SimpleCacheConformanceTestCase;

/** The PSR-16 conformance suite against the DynamoDB store (a fresh table per test). */
final class DynamoSimpleCacheConformanceTest extends SimpleCacheConformanceTestCase
{
    use DynamoTableFixture;
}
