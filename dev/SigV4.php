<?php

declare(strict_types=1);

namespace LambdaCache\Dev;

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
        ksort($canonical, SORT_STRING);
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
