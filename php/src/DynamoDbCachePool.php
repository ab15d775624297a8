<?php

declare(strict_types=1);

namespace LambdaCache;

use LambdaCache\Native\DynamoDbStore;

/**
 * A PSR-6 pool on DynamoDB: the cache every Lambda instance shares. Items are
 * {id: S, value: B, ttl: N} by default (the layout of Bref's DynamoDB storage docs); the table
 * needs a string partition key and, for DynamoDB to delete expired items, TTL on `ttl`.
 * Region, credentials and endpoint default to the standard AWS environment variables, else
 * (region and credentials) to AWS's default chain: profiles, SSO, web identity, container
 * credentials, instance metadata (README, "DynamoDB").
 */
final class DynamoDbCachePool extends AbstractPool
{
    /**
     * @param string|null       $table              default: php.ini lambda_cache.dynamodb_table, else env DYNAMO_DB_TABLE
     * @param string            $namespace          up to 64 of A-Za-z0-9_.-
     * @param int               $defaultLifetime    seconds; 0 = no expiry unless an item sets one
     * @param string|null       $region             default: env AWS_REGION, AWS_DEFAULT_REGION, else the profile's
     * @param string|null       $endpoint           default: php.ini lambda_cache.dynamodb_endpoint, else env
     *                                              AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL
     * @param string|null       $accessKeyId        default: env AWS_ACCESS_KEY_ID (with the secret and token), else the default chain
     * @param string|null       $secretAccessKey    never shown in stack traces (#[\SensitiveParameter])
     * @param string|null       $sessionToken       never shown in stack traces (#[\SensitiveParameter])
     * @param bool              $consistentRead     strongly consistent reads (twice the read cost)
     * @param int|null          $connectTimeoutMs   per connection attempt (default: php.ini
     *                                              lambda_cache.dynamodb_connect_timeout_ms, else 1000)
     * @param int|null          $attemptTimeoutMs   per HTTP attempt (lambda_cache.dynamodb_attempt_timeout_ms, else 1000)
     * @param int|null          $operationTimeoutMs per cache call, retries included (lambda_cache.dynamodb_operation_timeout_ms, else 3000)
     * @param int|null          $maxAttempts        HTTP attempts per request, retries of throttling, 5xx, resets
     *                                              (lambda_cache.dynamodb_max_attempts, else 3)
     * @param int               $compressThreshold  values of at least this many bytes are compressed (0 = never)
     * @param bool|list<string> $allowedClasses     which classes cached objects may have (default true = any; see README)
     * @param object|null       $logger             a PSR-3 logger for failures (else E_USER_WARNING)
     * @param bool              $strict             throw CacheException on failures instead of reporting them
     * @param string|null       $integrityKey       a secret of at least 16 bytes: entries without its MAC
     *                                              are misses (default: env LAMBDA_CACHE_INTEGRITY_KEY; '' = none)
     * @param bool|string|null  $metrics            CloudWatch EMF lines of this pool's counters to stderr, at most
     *                                              one per request: true (namespace LambdaCache), a CloudWatch
     *                                              namespace, false; null: php.ini lambda_cache.metrics_emf, else off
     */
    public function __construct(
        ?string $table = null,
        string $namespace = '',
        int $defaultLifetime = 0,
        ?string $region = null,
        ?string $endpoint = null,
        ?string $accessKeyId = null,
        #[\SensitiveParameter] ?string $secretAccessKey = null,
        #[\SensitiveParameter] ?string $sessionToken = null,
        string $keyAttribute = 'id',
        string $ttlAttribute = 'ttl',
        string $valueAttribute = 'value',
        bool $consistentRead = false,
        ?int $connectTimeoutMs = null,
        ?int $attemptTimeoutMs = null,
        ?int $operationTimeoutMs = null,
        ?int $maxAttempts = null,
        int $compressThreshold = 1024,
        bool|array $allowedClasses = true,
        ?object $logger = null,
        bool $strict = false,
        #[\SensitiveParameter] ?string $integrityKey = null,
        bool|string|null $metrics = null,
    ) {
        $options = \get_defined_vars();
        unset($options['defaultLifetime'], $options['allowedClasses'], $options['logger'], $options['strict'], $options['integrityKey'], $options['metrics']);
        // The closure is an argument of the frames below: wrapped, the credentials it holds
        // stay out of getTrace() dumps (print_r and var_dump show a closure's variables).
        $secrets = new \SensitiveParameterValue([$options, $integrityKey]);
        parent::__construct(static fn () => new DynamoDbStore($secrets->getValue()[0], $allowedClasses, $secrets->getValue()[1], $metrics), $defaultLifetime, $logger, $strict);
    }

    /**
     * Creates the table (string partition key, on-demand capacity) unless it exists, waits until
     * it is active and turns on TTL where the endpoint supports it. For development and tests; in
     * production create the table with your infrastructure (README, "Creating the table").
     *
     * @param bool $wait false: return once DynamoDB has accepted the table (or said it exists),
     *                   before it is active and without TTL (poll describeTable(), then call
     *                   again to finish)
     * @return string what was done
     * @throws CacheException when DynamoDB refuses
     */
    public function createTable(bool $wait = true): string
    {
        return self::native(fn () => $this->store->createTable($wait));
    }

    /**
     * The table as DescribeTable tells it: status (CREATING, ACTIVE, ...), DynamoDB's estimates of
     * item_count and size_bytes (updated about every six hours), billing_mode.
     *
     * @return array{status: string, item_count: int, size_bytes: int, billing_mode: string}
     * @throws CacheException when the table does not exist or DynamoDB refuses
     */
    public function describeTable(): array
    {
        return self::native(fn () => $this->store->describeTable());
    }
}
