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
     * @param string|null       $table              default: env DYNAMO_DB_TABLE
     * @param string            $namespace          up to 64 of A-Za-z0-9_.-
     * @param int               $defaultLifetime    seconds; 0 = no expiry unless an item sets one
     * @param string|null       $region             default: env AWS_REGION, AWS_DEFAULT_REGION, else the profile's
     * @param string|null       $endpoint           default: env AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL
     * @param string|null       $accessKeyId        default: env AWS_ACCESS_KEY_ID (with the secret and token), else the default chain
     * @param string|null       $secretAccessKey    never shown in stack traces (#[\SensitiveParameter])
     * @param string|null       $sessionToken       never shown in stack traces (#[\SensitiveParameter])
     * @param bool              $consistentRead     strongly consistent reads (twice the read cost)
     * @param int               $connectTimeoutMs   per connection attempt
     * @param int               $attemptTimeoutMs   per HTTP attempt
     * @param int               $operationTimeoutMs per cache call, retries included
     * @param int               $maxAttempts        HTTP attempts per request (retries of throttling, 5xx, resets)
     * @param int               $compressThreshold  values of at least this many bytes are compressed (0 = never)
     * @param bool|list<string> $allowedClasses     which classes cached objects may have (see README)
     * @param object|null       $logger             a PSR-3 logger for failures (else E_USER_WARNING)
     * @param bool              $strict             throw CacheException on failures instead of reporting them
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
        int $connectTimeoutMs = 1000,
        int $attemptTimeoutMs = 1000,
        int $operationTimeoutMs = 3000,
        int $maxAttempts = 3,
        int $compressThreshold = 1024,
        bool|array $allowedClasses = false,
        ?object $logger = null,
        bool $strict = false,
    ) {
        $options = \get_defined_vars();
        unset($options['defaultLifetime'], $options['allowedClasses'], $options['logger'], $options['strict']);
        // The closure is an argument of the frames below: wrapped, the credentials it holds
        // stay out of getTrace() dumps (print_r and var_dump show a closure's variables).
        $options = new \SensitiveParameterValue($options);
        parent::__construct(static fn () => new DynamoDbStore($options->getValue(), $allowedClasses), $defaultLifetime, $logger, $strict);
    }

    /**
     * Creates the table (string partition key, on-demand capacity) unless it exists, and turns
     * on TTL where the endpoint supports it. For development and tests; in production create
     * the table with your infrastructure (README, "Creating the table").
     *
     * @return string what was done
     * @throws CacheException when DynamoDB refuses
     */
    public function createTable(): string
    {
        return self::native(fn () => $this->store->createTable());
    }
}
