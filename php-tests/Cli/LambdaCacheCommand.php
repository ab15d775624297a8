<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Cli;

use LambdaCache\Tests\Support\BackgroundProcess;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\ProcessResult;
use PHPUnit\Framework\Assert;

/**
 * Runs the real bin/lambda-cache in a child process: `PHP_BINARY -n -d extension=$LAMBDA_CACHE_SO
 * bin/lambda-cache ARGS` (as a user runs it with the extension loaded), output to files.
 */
final class LambdaCacheCommand
{
    public static function script(): string
    {
        return dirname(__DIR__, 2) . '/bin/lambda-cache';
    }

    /**
     * @param list<string> $args
     * @param array<string, string|false> $env added to (false: removed from) this process's environment
     */
    public static function run(array $args, array $env = [], bool $withExtension = true, float $timeout = 120.0): ProcessResult
    {
        $cmd = [PHP_BINARY, '-n'];
        if ($withExtension) {
            array_push($cmd, '-d', 'extension=' . Php::extensionPath());
        }
        array_push($cmd, '-d', 'error_reporting=-1', '-d', 'display_errors=stderr', '-d', 'log_errors=0', self::script(), ...$args);
        $environment = getenv();
        foreach ($env as $name => $value) {
            if ($value === false) {
                unset($environment[$name]);
            } else {
                $environment[$name] = $value;
            }
        }
        $dir = sys_get_temp_dir() . '/lambda-cache-tests';
        if (!is_dir($dir)) {
            @mkdir($dir, 0777, true);
        }
        $base = sprintf('%s/cli-%d-%s', $dir, getmypid(), bin2hex(random_bytes(6)));
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', "{$base}.out", 'w'], 2 => ['file', "{$base}.err", 'w']], $pipes, null, $environment);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start ' . PHP_BINARY);
        }

        return (new BackgroundProcess($proc, "{$base}.out", "{$base}.err", []))->wait($timeout);
    }

    /** The one JSON document --json writes on stdout, decoded. */
    public static function json(ProcessResult $r): array
    {
        $lines = explode("\n", rtrim($r->stdout, "\n"));
        Assert::assertCount(1, $lines, "--json writes one line on stdout:\n" . $r->describe());
        $data = json_decode($lines[0], true);
        Assert::assertIsArray($data, "stdout is a JSON object:\n" . $r->describe());

        return $data;
    }

    /** Asserts exit status $code and exactly one stderr line matching $pattern, no stack trace. */
    public static function assertOneLineError(ProcessResult $r, int $code, string $pattern, string $what): void
    {
        Assert::assertSame($code, $r->exitCode, "{$what}: exit status\n" . $r->describe());
        $lines = explode("\n", rtrim($r->stderr, "\n"));
        Assert::assertCount(1, $lines, "{$what}: one line on stderr\n" . $r->describe());
        Assert::assertMatchesRegularExpression('/^lambda-cache: /', $lines[0], "{$what}: the line says who speaks");
        Assert::assertMatchesRegularExpression($pattern, $lines[0], "{$what}: the line says what went wrong");
        Assert::assertStringNotContainsString('Stack trace', $r->stderr . $r->stdout, $what);
        Assert::assertStringNotContainsString('#0 ', $r->stderr . $r->stdout, $what);
    }
}
