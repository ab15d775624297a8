<?php

declare(strict_types=1);

namespace LambdaCache\Dev;

/**
 * A plain PHP DynamoDB client as a hand-written PSR-6 adapter would have it: the peer of
 * benches/dynamo.php, and the tests' independent look at raw items and tables. ext-curl with one
 * handle kept for the whole process (connection reuse, as a real client does), AWS Signature
 * Version 4 written from the AWS documentation (SigV4), and DynamoDB's JSON protocol
 * (X-Amz-Target: DynamoDB_20120810.<Operation>, Content-Type: application/x-amz-json-1.0). No SDK.
 */
final class DynamoClient
{
    private const TARGET = 'DynamoDB_20120810.';
    private const BATCH_GET_MAX = 100;
    private const BATCH_RETRIES = 8;

    private \CurlHandle $curl;
    private SigV4 $signer;
    private string $host;

    public function __construct(
        private readonly string $endpoint,
        string $region,
        string $accessKeyId,
        string $secretAccessKey,
        private readonly ?string $sessionToken = null,
        int $timeoutMs = 10_000,
    ) {
        $parts = parse_url($endpoint);
        if (!isset($parts['scheme'], $parts['host'])) {
            throw new \InvalidArgumentException("not an endpoint URL: '{$endpoint}'");
        }
        $this->host = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
        $this->signer = new SigV4($accessKeyId, $secretAccessKey, $region, 'dynamodb');
        $this->curl = curl_init();
        curl_setopt_array($this->curl, [
            \CURLOPT_URL => rtrim($endpoint, '/') . '/',
            \CURLOPT_POST => true,
            \CURLOPT_RETURNTRANSFER => true,
            \CURLOPT_CONNECTTIMEOUT_MS => 2_000,
            \CURLOPT_TIMEOUT_MS => $timeoutMs,
            \CURLOPT_TCP_NODELAY => true,
        ]);
    }

    /**
     * From the environment scripts/dynalite.sh (or Lambda) sets; the endpoint defaults to
     * LAMBDA_CACHE_DYNAMODB_ENDPOINT.
     */
    public static function fromEnv(?string $endpoint = null): self
    {
        $endpoint ??= self::endpointFromEnv() ?? throw new \RuntimeException(self::missingEndpointMessage());
        $env = static fn (string $name, string $default = ''): string => (string) (getenv($name) ?: $default);

        return new self($endpoint, $env('AWS_REGION', $env('AWS_DEFAULT_REGION', 'us-east-1')),
            $env('AWS_ACCESS_KEY_ID', 'test'), $env('AWS_SECRET_ACCESS_KEY', 'test'), $env('AWS_SESSION_TOKEN') ?: null);
    }

    /** The emulator the suite and the benches run against (scripts/dynalite.sh), or null. */
    public static function endpointFromEnv(): ?string
    {
        $endpoint = getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT');
        return is_string($endpoint) && $endpoint !== '' ? $endpoint : null;
    }

    public static function missingEndpointMessage(): string
    {
        return 'LAMBDA_CACHE_DYNAMODB_ENDPOINT is not set: the DynamoDB tests need the emulator. Run the suite with '
            . '`make test-php-only` (it starts one), or under `scripts/dynalite.sh run -- COMMAND`.';
    }

    /** A table name no other test uses. */
    public static function uniqueTableName(string $prefix = 'lc_test'): string
    {
        return $prefix . '_' . getmypid() . '_' . bin2hex(random_bytes(6));
    }

    /**
     * One DynamoDB API call. Transport errors are retried once (a kept-alive connection the
     * server has closed); an error answer throws DynamoError.
     */
    public function call(string $operation, array $input): array
    {
        [$status, $data, $response] = $this->request($operation, $input);
        if ($status !== 200 || !\is_array($data)) {
            // "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
            $type = \is_array($data) ? (string) ($data['__type'] ?? "HTTP {$status}") : "HTTP {$status}";
            $message = \is_array($data) ? (string) ($data['message'] ?? $data['Message'] ?? '') : substr($response, 0, 200);

            throw new DynamoError(substr($type, (int) strrpos('#' . $type, '#')), $message, $status);
        }

        return $data;
    }

    /**
     * One call whatever the answer: [HTTP status, decoded JSON body (null when not JSON), raw body].
     * A transport failure (after one retry) throws DynamoError.
     *
     * @return array{0: int, 1: ?array, 2: string}
     */
    public function request(string $operation, array $input): array
    {
        $body = json_encode($input === [] ? new \stdClass() : $input, \JSON_UNESCAPED_SLASHES | \JSON_THROW_ON_ERROR);
        $amzDate = gmdate('Ymd\THis\Z');
        $headers = [
            'Content-Type' => 'application/x-amz-json-1.0',
            'Host' => $this->host,
            'X-Amz-Date' => $amzDate,
            'X-Amz-Target' => self::TARGET . $operation,
        ];
        if ($this->sessionToken !== null) {
            $headers['X-Amz-Security-Token'] = $this->sessionToken;
        }
        $lines = ['Authorization: ' . $this->signer->authorization('POST', '/', '', $headers, hash('sha256', $body), $amzDate),
            'Expect:'];
        foreach ($headers as $name => $value) {
            $lines[] = "{$name}: {$value}";
        }
        curl_setopt($this->curl, \CURLOPT_HTTPHEADER, $lines);
        curl_setopt($this->curl, \CURLOPT_POSTFIELDS, $body);

        for ($attempt = 1; ; ++$attempt) {
            $response = curl_exec($this->curl);
            if ($response !== false) {
                break;
            }
            if ($attempt >= 2) {
                throw new DynamoError('Transport', curl_error($this->curl) . " ({$this->endpoint})");
            }
        }
        $data = json_decode((string) $response, true);

        return [(int) curl_getinfo($this->curl, \CURLINFO_RESPONSE_CODE), \is_array($data) ? $data : null, (string) $response];
    }

    /** @return ?array the item's attributes (JSON form: ['id' => ['S' => ...], ...]), null when absent */
    public function getItem(string $table, string $id, bool $consistentRead = false): ?array
    {
        return $this->call('GetItem', ['TableName' => $table, 'Key' => ['id' => ['S' => $id]],
            'ConsistentRead' => $consistentRead])['Item'] ?? null;
    }

    public function putItem(string $table, array $item): void
    {
        $this->call('PutItem', ['TableName' => $table, 'Item' => $item]);
    }

    public function deleteItem(string $table, string $id): void
    {
        $this->call('DeleteItem', ['TableName' => $table, 'Key' => ['id' => ['S' => $id]]]);
    }

    /**
     * BatchGetItem in chunks of 100 keys, one chunk after the other; the UnprocessedKeys of a
     * chunk are asked again with a short jittered backoff.
     *
     * @param list<string> $ids
     * @return array<string, array> id => item, found items only
     */
    public function batchGetItem(string $table, array $ids, bool $consistentRead = false): array
    {
        $found = [];
        foreach (array_chunk(array_values(array_unique($ids)), self::BATCH_GET_MAX) as $chunk) {
            $keys = [];
            foreach ($chunk as $id) {
                $keys[] = ['id' => ['S' => (string) $id]];
            }
            $request = [$table => ['Keys' => $keys, 'ConsistentRead' => $consistentRead]];
            for ($attempt = 0; $request !== []; ++$attempt) {
                if ($attempt > 0) {
                    if ($attempt > self::BATCH_RETRIES) {
                        throw new DynamoError('UnprocessedKeys', "BatchGetItem: keys still unprocessed after {$attempt} attempts");
                    }
                    usleep(random_int(0, min(200_000, 5_000 << $attempt)));
                }
                $out = $this->call('BatchGetItem', ['RequestItems' => $request]);
                foreach ($out['Responses'][$table] ?? [] as $item) {
                    $found[$item['id']['S']] = $item;
                }
                $request = $out['UnprocessedKeys'] ?? [];
            }
        }

        return $found;
    }

    /** A table with a string partition key `id`, on-demand capacity; waits until it is ACTIVE. */
    public function createTable(string $table): void
    {
        $this->call('CreateTable', [
            'TableName' => $table,
            'AttributeDefinitions' => [['AttributeName' => 'id', 'AttributeType' => 'S']],
            'KeySchema' => [['AttributeName' => 'id', 'KeyType' => 'HASH']],
            'BillingMode' => 'PAY_PER_REQUEST',
        ]);
        $this->waitForTable($table);
    }

    /** Waits until $table is ACTIVE (a table not there yet counts as not yet ACTIVE); throws after $seconds. */
    public function waitForTable(string $table, float $seconds = 30.0): void
    {
        $end = microtime(true) + $seconds;
        do {
            $status = $this->describeTable($table)['TableStatus'] ?? 'missing';
            if ($status === 'ACTIVE') {
                return;
            }
            usleep(5_000);
        } while (microtime(true) < $end);

        throw new DynamoError('Timeout', "table {$table} is still {$status} after {$seconds} s");
    }

    public function deleteTable(string $table): void
    {
        $this->call('DeleteTable', ['TableName' => $table]);
    }

    /** @return list<string> */
    public function listTables(): array
    {
        return $this->call('ListTables', [])['TableNames'] ?? [];
    }

    /** The table's description, or null when DescribeTable does not answer 200. */
    public function describeTable(string $table): ?array
    {
        [$status, $body] = $this->request('DescribeTable', ['TableName' => $table]);
        return $status === 200 ? ($body['Table'] ?? null) : null;
    }

    /**
     * A table for one test: a unique name starting with $prefix, added to $toDelete first (so that
     * tearDown() deletes it even when the creation fails half-way), created by $create($name)
     * (the store's own createTable()), and ACTIVE when this returns.
     *
     * @param callable(string): mixed $create
     * @param list<string> $toDelete
     */
    public function createUniqueTable(string $prefix, callable $create, array &$toDelete): string
    {
        $table = self::uniqueTableName($prefix);
        $toDelete[] = $table;
        $create($table);
        // The emulator keeps a new table CREATING for a moment even with --createTableMs 0.
        $this->waitForTable($table, 10.0);
        return $table;
    }

    /**
     * Deletes tables from the emulator of the environment, for tearDown(): failures are ignored
     * (the emulator is gone, or the table is: nothing to clean).
     *
     * @param list<string> $tables
     */
    public static function deleteTablesQuietly(array $tables): void
    {
        if ($tables === [] || self::endpointFromEnv() === null) {
            return;
        }
        $client = self::fromEnv();
        foreach ($tables as $table) {
            try {
                $client->deleteTable($table);
            } catch (\RuntimeException) {
                // The emulator is gone or the table too.
            }
        }
    }

    /**
     * Every item of $table, in the wire format (['id' => ['S' => '...'], 'value' => ['B' => base64]]).
     *
     * @return list<array<string, array<string, mixed>>>
     */
    public function scan(string $table): array
    {
        $items = [];
        $start = null;
        do {
            $payload = ['TableName' => $table, 'ConsistentRead' => true];
            if ($start !== null) {
                $payload['ExclusiveStartKey'] = $start;
            }
            $page = $this->call('Scan', $payload);
            array_push($items, ...($page['Items'] ?? []));
            $start = $page['LastEvaluatedKey'] ?? null;
        } while ($start !== null);
        return $items;
    }

    public function curlVersion(): string
    {
        return (string) (curl_version()['version'] ?? '?');
    }
}
