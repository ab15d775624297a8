<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/**
 * Requests through the `cgi-fcgi` tool of libfcgi (`cgi-fcgi -bind -connect HOST:PORT`): one
 * process per request, its CGI environment the request's parameters, a bounded number at a time,
 * each killed (SIGKILL) after its deadline. Output goes to files in $workDir, removed afterwards.
 */
final class CgiFcgi
{
    public static function binary(): ?string
    {
        foreach (['/usr/bin/cgi-fcgi', '/usr/local/bin/cgi-fcgi'] as $path) {
            if (is_executable($path)) {
                return $path;
            }
        }
        return null;
    }

    /**
     * After $maxFailures failed requests no new one is started: the rest fail at once.
     *
     * @param list<array<string, string>> $requests the CGI environment of each request
     * @return list<FastCgiResponse> in the order of $requests
     */
    public static function runAll(string $address, array $requests, int $concurrency, float $requestTimeout, string $workDir, int $maxFailures = PHP_INT_MAX): array
    {
        $binary = self::binary() ?? throw new \RuntimeException('cgi-fcgi is not installed (apt-get install libfcgi-bin)');
        $results = [];
        $running = [];
        $failures = 0;
        $next = 0;
        $count = count($requests);
        try {
            while ($next < $count || $running !== []) {
                for (; $failures >= $maxFailures && $next < $count; $next++) {
                    $results[$next] = FastCgiResponse::failed("not started: {$failures} requests failed");
                }
                while ($next < $count && count($running) < $concurrency) {
                    $i = $next++;
                    $out = sprintf('%s/cgi-fcgi-%d.out', $workDir, $i);
                    $err = sprintf('%s/cgi-fcgi-%d.err', $workDir, $i);
                    $env = $requests[$i] + ['PATH' => (string) getenv('PATH')];
                    $proc = proc_open(
                        [$binary, '-bind', '-connect', $address],
                        [0 => ['file', '/dev/null', 'r'], 1 => ['file', $out, 'w'], 2 => ['file', $err, 'w']],
                        $pipes,
                        null,
                        $env
                    );
                    if (!is_resource($proc)) {
                        $results[$i] = FastCgiResponse::failed('cannot start cgi-fcgi');
                        continue;
                    }
                    $running[$i] = ['proc' => $proc, 'out' => $out, 'err' => $err, 'started' => microtime(true)];
                }
                usleep(2000);
                foreach ($running as $i => $r) {
                    $status = proc_get_status($r['proc']);
                    $elapsed = microtime(true) - $r['started'];
                    if ($status['running'] && $elapsed <= $requestTimeout) {
                        continue;
                    }
                    if ($status['running']) {
                        proc_terminate($r['proc'], 9);
                        while (proc_get_status($r['proc'])['running']) {
                            usleep(1000);
                        }
                        $results[$i] = FastCgiResponse::failed(sprintf('cgi-fcgi still running after %.1f s, killed', $elapsed), $elapsed);
                    } else {
                        $stdout = (string) @file_get_contents($r['out']);
                        $stderr = (string) @file_get_contents($r['err']);
                        $code = $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
                        $results[$i] = $code !== 0
                            ? FastCgiResponse::failed("cgi-fcgi exited with {$code}", $elapsed, $stderr . $stdout)
                            : FastCgiResponse::fromCgiOutput($stdout, $stderr, 0, $elapsed);
                    }
                    $failures += $results[$i]->error !== null ? 1 : 0;
                    proc_close($r['proc']);
                    @unlink($r['out']);
                    @unlink($r['err']);
                    unset($running[$i]);
                }
            }
        } finally {
            foreach ($running as $r) {
                proc_terminate($r['proc'], 9);
                proc_close($r['proc']);
                @unlink($r['out']);
                @unlink($r['err']);
            }
        }
        ksort($results);
        return $results;
    }
}
