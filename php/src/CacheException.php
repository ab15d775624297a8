<?php

declare(strict_types=1);

namespace LambdaCache;

/**
 * Thrown when a pool cannot be set up (its store cannot be opened) or createTable() fails.
 * PSR methods throw it only in strict mode; otherwise they report failures and answer a miss
 * or false.
 */
class CacheException extends \RuntimeException implements
    \Psr\Cache\CacheException,
    \Psr\SimpleCache\CacheException
{
}
