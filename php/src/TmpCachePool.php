<?php

declare(strict_types=1);

namespace LambdaCache;

use LambdaCache\Native\TmpStore;

/**
 * A PSR-6 pool on the local disk (/tmp on Lambda): an LMDB environment shared by every
 * process on the instance, bounded by $maxBytes.
 */
final class TmpCachePool extends AbstractPool
{
    /** The built-in size budget: 128 MiB of Lambda's 512 MiB /tmp, which OPcache shares. */
    public const DEFAULT_MAX_BYTES = 134217728;

    /**
     * @param string      $namespace       up to 64 of A-Za-z0-9_.-; pools with different
     *                                     namespaces are independent
     * @param int         $defaultLifetime seconds; 0 = no expiry unless an item sets one
     * @param string|null $directory       default: php.ini lambda_cache.tmp_directory, else
     *                                     sys_get_temp_dir().'/lambda-cache'; created 0700;
     *                                     refused (CacheException) when it is a symlink, not
     *                                     this user's or writable by group or others
     * @param int|null    $maxBytes        size budget of the directory (all namespaces); default:
     *                                     php.ini lambda_cache.tmp_max_bytes, else DEFAULT_MAX_BYTES
     * @param bool|list<string> $allowedClasses which classes cached objects may have:
     *                                     true (default) = any class, false = no objects
     * @param object|null $logger          a PSR-3 logger for failures (else E_USER_WARNING)
     * @param bool        $strict          throw CacheException on failures instead of reporting them
     * @param string|null $integrityKey    a secret of at least 16 bytes: entries without its MAC
     *                                     are misses (default: env LAMBDA_CACHE_INTEGRITY_KEY;
     *                                     '' = none)
     * @param bool|string|null $metrics     CloudWatch EMF lines of this pool's counters to stderr,
     *                                     at most one per request: true (namespace LambdaCache),
     *                                     a CloudWatch namespace, false; null (default): php.ini
     *                                     lambda_cache.metrics_emf, else off
     */
    public function __construct(
        string $namespace = '',
        int $defaultLifetime = 0,
        ?string $directory = null,
        ?int $maxBytes = null,
        bool|array $allowedClasses = true,
        ?object $logger = null,
        bool $strict = false,
        #[\SensitiveParameter] ?string $integrityKey = null,
        bool|string|null $metrics = null,
    ) {
        parent::__construct(
            static fn () => new TmpStore($directory, $namespace, $maxBytes, $allowedClasses, $integrityKey, $metrics),
            $defaultLifetime,
            $logger,
            $strict,
        );
    }
}
