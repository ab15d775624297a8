<?php

declare(strict_types=1);

namespace LambdaCache;

/**
 * Thrown for an illegal key, a bad TTL or a bad configuration value.
 */
class InvalidArgumentException extends \InvalidArgumentException implements
    \Psr\Cache\InvalidArgumentException,
    \Psr\SimpleCache\InvalidArgumentException
{
}
