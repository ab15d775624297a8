<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/**
 * A small FastCGI client (the responder role, one request per connection, as a web server in
 * front of php-fpm does it): BEGIN_REQUEST, PARAMS, an empty STDIN; then STDOUT/STDERR records
 * until END_REQUEST. runAll() keeps up to $concurrency requests in flight with stream_select, each
 * with its own deadline, and the whole batch with an overall one.
 */
final class FastCgiClient
{
    private const VERSION = 1;
    private const BEGIN_REQUEST = 1;
    private const END_REQUEST = 3;
    private const PARAMS = 4;
    private const STDIN = 5;
    private const STDOUT = 6;
    private const STDERR = 7;
    private const RESPONDER = 1;

    public function __construct(private string $host, private int $port)
    {
    }

    /** The bytes of one request: the request id is 1, the connection closes after it. */
    public static function encodeRequest(array $params, string $stdin = ''): string
    {
        $out = self::record(self::BEGIN_REQUEST, pack('nCx5', self::RESPONDER, 0));
        $pairs = '';
        foreach ($params as $name => $value) {
            $name = (string) $name;
            $value = (string) $value;
            $pairs .= self::length($name) . self::length($value) . $name . $value;
        }
        foreach (str_split($pairs, 65535) as $chunk) {
            $out .= $chunk === '' ? '' : self::record(self::PARAMS, $chunk);
        }
        $out .= self::record(self::PARAMS, '');
        foreach ($stdin === '' ? [] : str_split($stdin, 65535) as $chunk) {
            $out .= self::record(self::STDIN, $chunk);
        }
        return $out . self::record(self::STDIN, '');
    }

    /** One request, synchronously. */
    public function request(array $params, float $timeout = 10.0): FastCgiResponse
    {
        return $this->runAll([$params], 1, $timeout, $timeout + 1.0)[0];
    }

    /**
     * Runs every request (a list of PARAMS arrays) with at most $concurrency at a time. After
     * $maxFailures failed requests (errors, timeouts) no new one is sent: the rest fail at once.
     *
     * @return list<FastCgiResponse> in the order of $requests
     */
    public function runAll(array $requests, int $concurrency, float $requestTimeout, float $overallTimeout, int $maxFailures = PHP_INT_MAX): array
    {
        $deadline = microtime(true) + $overallTimeout;
        $results = [];
        $failures = 0;
        $next = 0;
        $count = count($requests);
        /** @var array<int, array{socket: resource, in: string, started: float}> $flight */
        $flight = [];
        while ($next < $count || $flight !== []) {
            while ($next < $count && count($flight) < $concurrency && microtime(true) < $deadline && $failures < $maxFailures) {
                $i = $next++;
                $started = microtime(true);
                $socket = @stream_socket_client("tcp://{$this->host}:{$this->port}", $errno, $errstr, 5.0);
                if ($socket === false) {
                    $results[$i] = FastCgiResponse::failed("connect: {$errstr} ({$errno})", microtime(true) - $started);
                    $failures++;
                    continue;
                }
                $bytes = self::encodeRequest($requests[$i]);
                stream_set_timeout($socket, (int) ceil($requestTimeout));
                $written = 0;
                while ($written < strlen($bytes)) {
                    $n = @fwrite($socket, substr($bytes, $written));
                    if ($n === false || $n === 0) {
                        break;
                    }
                    $written += $n;
                }
                if ($written < strlen($bytes)) {
                    fclose($socket);
                    $results[$i] = FastCgiResponse::failed('could not send the request', microtime(true) - $started);
                    $failures++;
                    continue;
                }
                stream_set_blocking($socket, false);
                $flight[$i] = ['socket' => $socket, 'in' => '', 'started' => $started];
            }
            if ($flight === []) {
                $stop = microtime(true) >= $deadline || $failures >= $maxFailures;
                for (; $stop && $next < $count; $next++) {
                    $results[$next] = FastCgiResponse::failed("not sent: the overall deadline passed or {$failures} requests failed");
                }
                continue;
            }
            $read = array_map(static fn (array $f) => $f['socket'], $flight);
            $write = $except = null;
            if (@stream_select($read, $write, $except, 0, 50000) === false) {
                usleep(1000);
            }
            $now = microtime(true);
            foreach ($flight as $i => $f) {
                $done = null;
                if (in_array($f['socket'], $read, true)) {
                    $chunk = fread($f['socket'], 65536);
                    if ($chunk === false || ($chunk === '' && feof($f['socket']))) {
                        $done = self::parse($f['in'], $now - $f['started'], true);
                    } else {
                        $flight[$i]['in'] .= $chunk;
                        $done = self::parse($flight[$i]['in'], $now - $f['started'], false);
                    }
                }
                if ($done === null && ($now - $f['started'] > $requestTimeout || $now > $deadline)) {
                    $done = FastCgiResponse::failed(sprintf('no END_REQUEST after %.1f s', $now - $f['started']), $now - $f['started']);
                }
                if ($done !== null) {
                    $failures += $done->error !== null ? 1 : 0;
                    fclose($f['socket']);
                    unset($flight[$i]);
                    $results[$i] = $done;
                }
            }
        }
        ksort($results);
        return $results;
    }

    /** The response once END_REQUEST arrived; null while incomplete (a failure at EOF). */
    private static function parse(string $in, float $seconds, bool $eof): ?FastCgiResponse
    {
        $stdout = '';
        $stderr = '';
        $offset = 0;
        while (strlen($in) - $offset >= 8) {
            $h = unpack('Cversion/Ctype/nid/nlength/Cpadding', substr($in, $offset, 8));
            if ($h['version'] !== self::VERSION) {
                return FastCgiResponse::failed("bad record version {$h['version']}", $seconds);
            }
            $size = 8 + $h['length'] + $h['padding'];
            if (strlen($in) - $offset < $size) {
                break;
            }
            $content = substr($in, $offset + 8, $h['length']);
            $offset += $size;
            if ($h['type'] === self::STDOUT) {
                $stdout .= $content;
            } elseif ($h['type'] === self::STDERR) {
                $stderr .= $content;
            } elseif ($h['type'] === self::END_REQUEST) {
                $end = unpack('NappStatus/CprotocolStatus', $content);
                if ($end['protocolStatus'] !== 0) {
                    return FastCgiResponse::failed("protocol status {$end['protocolStatus']}", $seconds, $stderr);
                }
                return FastCgiResponse::fromCgiOutput($stdout, $stderr, $end['appStatus'], $seconds);
            } else {
                return FastCgiResponse::failed("unexpected record type {$h['type']}", $seconds);
            }
        }
        return $eof ? FastCgiResponse::failed('connection closed before END_REQUEST', $seconds, $stderr) : null;
    }

    private static function record(int $type, string $content): string
    {
        return pack('CCnnCx', self::VERSION, $type, 1, strlen($content), 0) . $content;
    }

    private static function length(string $s): string
    {
        $n = strlen($s);
        return $n < 128 ? chr($n) : pack('N', $n | 0x80000000);
    }
}
