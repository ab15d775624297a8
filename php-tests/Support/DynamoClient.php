<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/**
 * A minimal DynamoDB JSON client for the tests (SigV4-signed, plain PHP streams), to look at and
 * set up raw items and tables independently of the store under test.
 */
final class DynamoClient
{
    public function __construct(
        private string $endpoint,
        private string $region = 'us-east-1',
        private string $accessKeyId = 'test',
        private string $secretAccessKey = 'test',
    ) {
    }

    /** The emulator the suite runs against (scripts/dynalite.sh), or a failure message. */
    public static function endpointFromEnv(): ?string
    {
        $endpoint = getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT');
        return is_string($endpoint) && $endpoint !== '' ? $endpoint : null;
    }

    public static function fromEnv(): self
    {
        $endpoint = self::endpointFromEnv();
        if ($endpoint === null) {
            throw new \RuntimeException(self::missingEndpointMessage());
        }
        $env = static fn (string $name, string $default): string => (string) (getenv($name) ?: $default);
        return new self($endpoint, $env('AWS_REGION', 'us-east-1'), $env('AWS_ACCESS_KEY_ID', 'test'), $env('AWS_SECRET_ACCESS_KEY', 'test'));
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
     * Sends one operation; returns [HTTP status, decoded JSON body].
     *
     * @return array{0: int, 1: array<string, mixed>}
     */
    public function call(string $operation, array $payload): array
    {
        $body = json_encode($payload === [] ? new \stdClass() : $payload, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        $host = (string) parse_url($this->endpoint, PHP_URL_HOST);
        $port = parse_url($this->endpoint, PHP_URL_PORT);
        $hostHeader = $host . ($port !== null ? ":{$port}" : '');
        $headers = [
            'content-type' => 'application/x-amz-json-1.0',
            'host' => $hostHeader,
            'x-amz-date' => gmdate('Ymd\THis\Z'),
            'x-amz-target' => 'DynamoDB_20120810.' . $operation,
        ];
        $headers['authorization'] = $this->sign($headers, $body);
        $lines = [];
        foreach ($headers as $name => $value) {
            if ($name !== 'host') {
                $lines[] = "{$name}: {$value}";
            }
        }
        $lines[] = 'Connection: close';
        $context = stream_context_create(['http' => [
            'method' => 'POST', 'header' => implode("\r\n", $lines), 'content' => $body,
            'ignore_errors' => true, 'timeout' => 15, 'protocol_version' => 1.1,
        ]]);
        $response = @file_get_contents(rtrim($this->endpoint, '/') . '/', false, $context);
        $responseHeaders = $http_response_header ?? [];
        if ($response === false || !isset($responseHeaders[0])) {
            throw new \RuntimeException("DynamoClient: {$operation} to {$this->endpoint} failed: " . (error_get_last()['message'] ?? 'no answer'));
        }
        $status = preg_match('~^HTTP/\S+\s+(\d{3})~', $responseHeaders[0], $m) === 1 ? (int) $m[1] : 0;
        $decoded = json_decode($response, true);
        return [$status, is_array($decoded) ? $decoded : ['raw' => $response]];
    }

    /** Like call(), but throws unless the answer is 200. */
    public function ok(string $operation, array $payload): array
    {
        [$status, $body] = $this->call($operation, $payload);
        if ($status !== 200) {
            throw new \RuntimeException("DynamoClient: {$operation} answered {$status}: " . json_encode($body));
        }
        return $body;
    }

    /** @return list<string> */
    public function listTables(): array
    {
        return $this->ok('ListTables', [])['TableNames'] ?? [];
    }

    public function describeTable(string $table): ?array
    {
        [$status, $body] = $this->call('DescribeTable', ['TableName' => $table]);
        return $status === 200 ? $body['Table'] : null;
    }

    /** Waits until $table is ACTIVE (bounded); throws when it does not get there. */
    public function waitUntilActive(string $table, float $timeout = 10.0): void
    {
        $deadline = microtime(true) + $timeout;
        do {
            $status = $this->describeTable($table)['TableStatus'] ?? 'missing';
            if ($status === 'ACTIVE') {
                return;
            }
            usleep(5000);
        } while (microtime(true) < $deadline);
        throw new \RuntimeException("DynamoClient: table {$table} is still {$status} after {$timeout} s");
    }

    public function deleteTable(string $table): void
    {
        $this->call('DeleteTable', ['TableName' => $table]);
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
        $this->waitUntilActive($table);
        return $table;
    }

    /**
     * Deletes the tables of a test from the emulator of the environment, for tearDown(): failures
     * are ignored (the emulator is gone, or the table is: nothing to clean).
     *
     * @param list<string> $tables
     */
    public static function deleteTablesQuietly(array $tables): void
    {
        if ($tables === []) {
            return;
        }
        try {
            $client = self::fromEnv();
        } catch (\RuntimeException) {
            return;
        }
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
            $page = $this->ok('Scan', $payload);
            array_push($items, ...($page['Items'] ?? []));
            $start = $page['LastEvaluatedKey'] ?? null;
        } while ($start !== null);
        return $items;
    }

    public function putItem(string $table, array $item): void
    {
        $this->ok('PutItem', ['TableName' => $table, 'Item' => $item]);
    }

    public function getItem(string $table, array $key): ?array
    {
        return $this->ok('GetItem', ['TableName' => $table, 'Key' => $key, 'ConsistentRead' => true])['Item'] ?? null;
    }

    private function sign(array $headers, string $body): string
    {
        ksort($headers);
        $canonicalHeaders = '';
        foreach ($headers as $name => $value) {
            $canonicalHeaders .= $name . ':' . trim((string) $value) . "\n";
        }
        $signed = implode(';', array_keys($headers));
        $canonical = "POST\n/\n\n{$canonicalHeaders}\n{$signed}\n" . hash('sha256', $body);
        $date = substr($headers['x-amz-date'], 0, 8);
        $scope = "{$date}/{$this->region}/dynamodb/aws4_request";
        $toSign = "AWS4-HMAC-SHA256\n{$headers['x-amz-date']}\n{$scope}\n" . hash('sha256', $canonical);
        $key = 'AWS4' . $this->secretAccessKey;
        foreach ([$date, $this->region, 'dynamodb', 'aws4_request'] as $part) {
            $key = hash_hmac('sha256', $part, $key, true);
        }
        $signature = hash_hmac('sha256', $toSign, $key);
        return "AWS4-HMAC-SHA256 Credential={$this->accessKeyId}/{$scope}, SignedHeaders={$signed}, Signature={$signature}";
    }
}
