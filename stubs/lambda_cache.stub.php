<?php

// Stubs of the lambda_cache extension, for IDEs and static analysis. Kept in sync with the
// extension by php-tests/StubsTest.php. The native classes are used by the PSR classes in
// php/src; applications use those (LambdaCache\TmpCachePool, LambdaCache\Psr16Cache).

namespace {
    /** The extension's version. */
    function lambda_cache_version(): string {}
}

namespace LambdaCache\Native {
    /**
     * Thrown for a bad argument. Codes: 1 key, 2 configuration, 8 other argument (an expiry,
     * arrays of different lengths).
     */
    class InvalidArgumentException extends \Exception
    {
        public function __construct() {}
    }

    /**
     * Thrown when the store fails. Codes: 3 value cannot be cached, 4 class not in
     * allowedClasses, 5 value too large, 6 corrupt entry, 7 storage error.
     */
    class StoreException extends \Exception
    {
        public function __construct() {}
    }

    /** The /tmp store: an LMDB environment in $directory shared by every process. */
    class TmpStore
    {
        /**
         * @param bool|list<string>|null $allowed_classes classes a cached value may contain:
         *        false none, true or null any
         * @param string|null $directory any bytes (Linux paths need not be UTF-8); resolved to its
         *        canonical path, so every path to one directory shares one environment; null:
         *        php.ini lambda_cache.tmp_directory, else sys_get_temp_dir().'/lambda-cache'
         * @param int|null $max_bytes null: php.ini lambda_cache.tmp_max_bytes, else 128 MiB
         * @param string|null $integrity_key a secret of at least 16 bytes: entries are written
         *        with a MAC and only read when it checks out; null = env
         *        LAMBDA_CACHE_INTEGRITY_KEY, '' = none; sensitive
         * @param bool|string|null $metrics CloudWatch EMF lines of this store's counters to
         *        stderr (at most one per request, none without activity): true (namespace
         *        LambdaCache), a CloudWatch namespace, false; null: php.ini
         *        lambda_cache.metrics_emf, else off
         * @throws InvalidArgumentException for a bad namespace (also one that is not UTF-8),
         *         budget, $allowed_classes, $integrity_key, $metrics or lambda_cache.tmp_* or
         *         lambda_cache.metrics_emf php.ini setting
         * @throws StoreException when the directory cannot be opened, or is refused: a symlink,
         *         not owned by this user or writable by group or others (also data.mdb, lock.mdb)
         */
        public function __construct(?string $directory, string $namespace, ?int $max_bytes, mixed $allowed_classes, #[\SensitiveParameter] mixed $integrity_key = null, mixed $metrics = null) {}

        /**
         * The value under $key, or $miss itself when there is none.
         * @throws InvalidArgumentException for a key that is not a string or breaks the key rules
         * @throws StoreException when a stored value cannot be read back (code 4 or 6; 6 also
         *         for an entry whose integrity tag does not check out) or the store fails (code 7)
         */
        public function get(mixed $key, mixed $miss): mixed {}

        /**
         * @param list<string> $keys
         * @return array{0: array<int, mixed>, 1: array<int, string>} [position in $keys => value
         *         for hits, position => reason for stored values that could not be read back]
         * @throws InvalidArgumentException for a key that is not a string or breaks the key rules
         * @throws StoreException when the store fails (code 7)
         */
        public function getMany(array $keys): array {}

        /**
         * Writes one value, expiring at $expires_at_ms (milliseconds since the epoch, 0 = never).
         * @param int $expires_at_ms a non-negative integer
         * @throws InvalidArgumentException for an illegal key (code 1) or an expiry that is not a
         *         non-negative integer (code 8)
         * @throws StoreException when the value cannot be stored (code 3, 4 or 5) or the store
         *         fails (code 7)
         */
        public function set(mixed $key, mixed $value, mixed $expires_at_ms): void {}

        /**
         * @param list<string> $keys
         * @param list<mixed> $values
         * @param list<int> $expiries milliseconds since the epoch, 0 = never (non-negative)
         * @return array<int, string> position => reason, for values that could not be stored;
         *         the others are written together
         * @throws InvalidArgumentException for an illegal key (code 1), an expiry that is not a
         *         non-negative integer or arrays of different lengths (code 8); nothing is written
         * @throws StoreException when the store fails or refuses the batch; nothing is written
         */
        public function setMany(array $keys, array $values, array $expiries): array {}

        /**
         * @param list<string> $keys
         * @throws InvalidArgumentException for a key that is not a string or breaks the key rules
         * @throws StoreException when the store fails (code 7)
         */
        public function deleteMany(array $keys): void {}

        /** Deletes every key of this store's namespace. */
        public function clear(): void {}

        /** Deletes expired and unreadable entries; returns how many. */
        public function prune(): int {}

        /**
         * Writes the EMF line of this store's activity since its last one to stderr now, when
         * EMF is on and there was activity (for a process that serves many events in one request).
         */
        public function flushMetrics(): void {}

        /**
         * Sizes, and this store's counters since it was made (README, "Metrics"): hits, misses,
         * writes, deletes, clears, errors and errors_<kind>, bytes_read, bytes_written, and
         * write_latency_p50_ms/p99_ms once there were writes.
         * @return array<string, int|float>
         */
        public function stats(): array {}
    }

    /**
     * The DynamoDB store. Nothing is sent before the first call; every call returns within
     * operationTimeoutMs.
     */
    class DynamoDbStore
    {
        /**
         * @param array<string, mixed> $options table, namespace, region, endpoint, accessKeyId,
         *        secretAccessKey, sessionToken, keyAttribute, ttlAttribute, valueAttribute,
         *        consistentRead, connectTimeoutMs, attemptTimeoutMs, operationTimeoutMs,
         *        maxAttempts, compressThreshold (null = the php.ini setting, else the environment, else
         *        the built-in default); sensitive:
         *        stack traces show it as a SensitiveParameterValue
         * @param bool|list<string>|null $allowed_classes classes a cached value may contain:
         *        false none, true or null any
         * @param string|null $integrity_key as for TmpStore
         * @param bool|string|null $metrics as for TmpStore
         * @throws InvalidArgumentException for a bad option, lambda_cache.dynamodb_* php.ini
         *         setting, $allowed_classes or $integrity_key (an endpoint with a path, a query or
         *         user information included)
         */
        public function __construct(#[\SensitiveParameter] array $options, mixed $allowed_classes, #[\SensitiveParameter] mixed $integrity_key = null, mixed $metrics = null) {}

        /**
         * The value under $key, or $miss itself when there is none.
         * @throws InvalidArgumentException for a key that is not a string or breaks the key rules
         * @throws StoreException when a stored value cannot be read back (code 4 or 6; 6 also
         *         for an entry whose integrity tag does not check out) or the store fails (code 7)
         */
        public function get(mixed $key, mixed $miss): mixed {}

        /**
         * @param list<string> $keys
         * @return array{0: array<int, mixed>, 1: array<int, string>} [position in $keys => value
         *         for hits, position => reason for stored values that could not be read back]
         * @throws InvalidArgumentException for a key that is not a string or breaks the key rules
         * @throws StoreException when the store fails (code 7)
         */
        public function getMany(array $keys): array {}

        /**
         * Writes one value, expiring at $expires_at_ms (milliseconds since the epoch, 0 = never).
         * @param int $expires_at_ms a non-negative integer
         * @throws InvalidArgumentException for an illegal key (code 1) or an expiry that is not a
         *         non-negative integer (code 8)
         * @throws StoreException when the value cannot be stored (code 3, 4 or 5) or the store
         *         fails (code 7)
         */
        public function set(mixed $key, mixed $value, mixed $expires_at_ms): void {}

        /**
         * @param list<string> $keys
         * @param list<mixed> $values
         * @param list<int> $expiries milliseconds since the epoch, 0 = never (non-negative)
         * @return array<int, string> position => reason, for values that could not be stored;
         *         the others are written together
         * @throws InvalidArgumentException for an illegal key (code 1), an expiry that is not a
         *         non-negative integer or arrays of different lengths (code 8); nothing is written
         * @throws StoreException when the store fails or refuses the batch; nothing is written
         */
        public function setMany(array $keys, array $values, array $expiries): array {}

        /**
         * @param list<string> $keys
         * @throws InvalidArgumentException for a key that is not a string or breaks the key rules
         * @throws StoreException when the store fails (code 7)
         */
        public function deleteMany(array $keys): void {}

        /** Moves this store's namespace to a new version (one UpdateItem). */
        public function clear(): void {}

        /** DynamoDB deletes expired items itself (TTL): returns 0. */
        public function prune(): int {}

        /**
         * Writes the EMF line of this store's activity since its last one to stderr now, when
         * EMF is on and there was activity (for a process that serves many events in one request).
         */
        public function flushMetrics(): void {}

        /**
         * Creates the table unless it exists and enables TTL where supported; says what it did.
         * Without $wait it returns once the table is accepted (or exists): not yet active, no TTL.
         */
        public function createTable(bool $wait = true): string {}

        /**
         * One DescribeTable.
         * @return array{status: string, item_count: int, size_bytes: int, billing_mode: string}
         * @throws StoreException when the table does not exist or DynamoDB refuses (code 7)
         */
        public function describeTable(): array {}

        /**
         * runtimes_created and clients_created (counters of this process), and this store's
         * counters since it was made (README, "Metrics"): those of TmpStore::stats(), plus
         * dynamodb_requests, dynamodb_retries, dynamodb_throttles, dynamodb_consumed_capacity
         * (float), dynamodb_bytes_sent, dynamodb_bytes_received, read_latency_p50_ms/p99_ms.
         * @return array<string, int|float>
         */
        public function stats(): array {}
    }
}
