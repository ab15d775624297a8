<?php

declare(strict_types=1);

/*
 * The benchmark's peer: a plain PHP DynamoDB client as a hand-written PSR-6 adapter would have it.
 * ext-curl with one handle kept for the whole process (connection reuse, as a real client does),
 * AWS Signature Version 4 written from the AWS documentation (HMAC-SHA256 over the canonical
 * request), and DynamoDB's JSON protocol (X-Amz-Target: DynamoDB_20120810.<Operation>,
 * Content-Type: application/x-amz-json-1.0). No SDK.
 */

namespace LcBench;

/** AWS Signature Version 4 for requests whose whole body is signed (Authorization header). */
final class SigV4
{
    private string $keyDate = '';
    private string $key = '';

    public function __construct(
        private readonly string $accessKeyId,
        private readonly string $secretAccessKey,
        private readonly string $region,
        private readonly string $service,
    ) {
    }

    /**
     * The Authorization header value. Every header given is signed (host and x-amz-date included).
     *
     * @param array<string, string> $headers name => value, any case
     * @param string                $amzDate ISO 8601 basic format, e.g. 20150830T123600Z
     */
    public function authorization(string $method, string $path, string $query, array $headers,
        string $payloadSha256, string $amzDate): string
    {
        $canonical = [];
        foreach ($headers as $name => $value) {
            $value = trim($value);
            $canonical[strtolower($name)] = str_contains($value, '  ') ? preg_replace('/ +/', ' ', $value) : $value;
        }
        ksort($canonical, \SORT_STRING);
        $lines = '';
        foreach ($canonical as $name => $value) {
            $lines .= "{$name}:{$value}\n";
        }
        $signed = implode(';', array_keys($canonical));
        $request = "{$method}\n{$path}\n{$query}\n{$lines}\n{$signed}\n{$payloadSha256}";

        $date = substr($amzDate, 0, 8);
        $scope = "{$date}/{$this->region}/{$this->service}/aws4_request";
        $stringToSign = "AWS4-HMAC-SHA256\n{$amzDate}\n{$scope}\n" . hash('sha256', $request);
        $signature = hash_hmac('sha256', $stringToSign, $this->signingKey($date));

        return "AWS4-HMAC-SHA256 Credential={$this->accessKeyId}/{$scope}, SignedHeaders={$signed}, Signature={$signature}";
    }

    /** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"), kept per day. */
    private function signingKey(string $date): string
    {
        if ($this->keyDate !== $date) {
            $k = hash_hmac('sha256', $date, 'AWS4' . $this->secretAccessKey, true);
            $k = hash_hmac('sha256', $this->region, $k, true);
            $k = hash_hmac('sha256', $this->service, $k, true);
            $this->key = hash_hmac('sha256', 'aws4_request', $k, true);
            $this->keyDate = $date;
        }

        return $this->key;
    }

    /**
     * Checks the signer against two cases of AWS's published SigV4 test suite (post-vanilla and
     * post-x-www-form-urlencoded). dynalite does not verify signatures, so this is what proves
     * the peer signs like a client that real DynamoDB would accept. Returns the failures.
     *
     * @return list<string>
     */
    public static function selfTest(): array
    {
        $signer = new self('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'us-east-1', 'service');
        $date = '20150830T123600Z';
        $body = 'Param1=value1';
        $cases = [
            'post-vanilla' => [
                ['Host' => 'example.amazonaws.com', 'X-Amz-Date' => $date], '',
                '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
            ],
            'post-x-www-form-urlencoded' => [
                ['Content-Type' => 'application/x-www-form-urlencoded', 'Host' => 'example.amazonaws.com',
                    'Content-Length' => '13', 'X-Amz-Date' => $date, 'x-amz-content-sha256' => hash('sha256', $body)],
                $body,
                'd3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b',
            ],
        ];
        $failures = [];
        foreach ($cases as $name => [$headers, $payload, $expected]) {
            $auth = $signer->authorization('POST', '/', '', $headers, hash('sha256', $payload), $date);
            if (!str_ends_with($auth, "Signature={$expected}")) {
                $failures[] = "{$name}: got {$auth}";
            }
        }

        return $failures;
    }
}

/** An error answered by DynamoDB (or the emulator), or a transport failure. */
final class DynamoError extends \RuntimeException
{
    public function __construct(public readonly string $type, string $message, int $status = 0)
    {
        parent::__construct(($type !== '' ? "{$type}: " : '') . $message, $status);
    }
}

final class PlainDynamoClient
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

    /** From the environment scripts/dynalite.sh (or Lambda) sets. */
    public static function fromEnvironment(string $endpoint): self
    {
        $env = static fn (string $name, string $default = ''): string => (string) (getenv($name) ?: $default);

        return new self($endpoint, $env('AWS_REGION', $env('AWS_DEFAULT_REGION', 'us-east-1')),
            $env('AWS_ACCESS_KEY_ID'), $env('AWS_SECRET_ACCESS_KEY'), $env('AWS_SESSION_TOKEN') ?: null);
    }

    /**
     * One DynamoDB API call. Transport errors are retried once (a kept-alive connection the
     * server has closed); an error answer throws DynamoError.
     */
    public function call(string $operation, array $input): array
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
        $status = curl_getinfo($this->curl, \CURLINFO_RESPONSE_CODE);
        $data = json_decode((string) $response, true);
        if ($status !== 200 || !\is_array($data)) {
            // "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
            $type = \is_array($data) ? (string) ($data['__type'] ?? "HTTP {$status}") : "HTTP {$status}";
            $message = \is_array($data) ? (string) ($data['message'] ?? $data['Message'] ?? '') : substr((string) $response, 0, 200);

            throw new DynamoError(substr($type, (int) strrpos('#' . $type, '#')), $message, $status);
        }

        return $data;
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

    public function waitForTable(string $table, float $seconds = 30.0): void
    {
        $end = microtime(true) + $seconds;
        do {
            $status = $this->call('DescribeTable', ['TableName' => $table])['Table']['TableStatus'] ?? '';
            if ($status === 'ACTIVE') {
                return;
            }
            usleep(50_000);
        } while (microtime(true) < $end);

        throw new DynamoError('Timeout', "table {$table} is still {$status} after {$seconds} s");
    }

    public function deleteTable(string $table): void
    {
        $this->call('DeleteTable', ['TableName' => $table]);
    }

    public function curlVersion(): string
    {
        return (string) (curl_version()['version'] ?? '?');
    }
}
