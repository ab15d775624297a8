<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/** What one FastCGI request got back (from FastCgiClient). */
final class FastCgiResponse
{
    /**
     * @param string|null $error   why there is no complete response (timeout, connection lost, ...)
     * @param int         $status  the HTTP status (the `Status:` header, else 200)
     * @param array<string, string> $headers lower-case names
     */
    public function __construct(
        public readonly ?string $error,
        public readonly int $status = 0,
        public readonly array $headers = [],
        public readonly string $body = '',
        public readonly string $stderr = '',
        public readonly int $appStatus = -1,
        public readonly float $seconds = 0.0,
    ) {
    }

    public static function failed(string $error, float $seconds = 0.0, string $stderr = ''): self
    {
        return new self($error, 0, [], '', $stderr, -1, $seconds);
    }

    /** Splits a CGI response (headers, blank line, body) as the responder wrote it. */
    public static function fromCgiOutput(string $stdout, string $stderr, int $appStatus, float $seconds): self
    {
        $end = strpos($stdout, "\r\n\r\n");
        $sep = 4;
        if ($end === false) {
            $end = strpos($stdout, "\n\n");
            $sep = 2;
        }
        if ($end === false) {
            return new self('no end of headers in the response: ' . substr($stdout, 0, 200), 0, [], $stdout, $stderr, $appStatus, $seconds);
        }
        $headers = [];
        foreach (preg_split('/\r?\n/', substr($stdout, 0, $end)) ?: [] as $line) {
            $colon = strpos($line, ':');
            if ($colon !== false) {
                $headers[strtolower(trim(substr($line, 0, $colon)))] = trim(substr($line, $colon + 1));
            }
        }
        $status = 200;
        if (isset($headers['status']) && preg_match('/^(\d{3})/', $headers['status'], $m) === 1) {
            $status = (int) $m[1];
        }
        return new self(null, $status, $headers, substr($stdout, $end + $sep), $stderr, $appStatus, $seconds);
    }

    public function describe(): string
    {
        return sprintf(
            '%s status %d, app status %d, %.3f s, body %s, stderr %s',
            $this->error !== null ? "error: {$this->error}," : 'complete,',
            $this->status,
            $this->appStatus,
            $this->seconds,
            json_encode(substr($this->body, 0, 300)),
            json_encode(substr($this->stderr, 0, 300))
        );
    }
}
