<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/**
 * Runs PHP code in child processes: `PHP_BINARY -n -d extension=$LAMBDA_CACHE_SO script.php`, the
 * script starting with the suite's autoloader (same LAMBDA_CACHE_PSR as the parent, inherited
 * through the environment).
 *
 * $vars are exported into the child as PHP variables ($name = var_export(value)), so the code
 * needs no escaping of parameters. $ini are more `-d name=value` settings.
 *
 * LAMBDA_CACHE_PHP_CMD, when set, replaces PHP_BINARY: a command line, split at whitespace (no
 * quoting), e.g. `qemu-aarch64-static -L ROOT ROOT/usr/bin/php8.2` for an arm64 PHP under
 * emulation (scripts/arm64.sh), whose PHP_BINARY the kernel cannot exec.
 * LAMBDA_CACHE_HELPER_PHP_CMD (read by dev/FaultProxy.php) runs the fault proxy, which never loads
 * the extension: under emulation the host's own PHP, so that the helper's speed does not eat into
 * the timeouts under test.
 */
final class Php
{
    /** @return list<string> the command that starts this PHP: PHP_BINARY, or LAMBDA_CACHE_PHP_CMD */
    public static function command(): array
    {
        $cmd = trim((string) getenv('LAMBDA_CACHE_PHP_CMD'));
        return $cmd === '' ? [PHP_BINARY] : preg_split('/\s+/', $cmd);
    }

    /** The same as command(), as one shell word list (escaped). */
    public static function shellCommand(): string
    {
        return implode(' ', array_map('escapeshellarg', self::command()));
    }

    public static function extensionPath(): string
    {
        $so = defined('LAMBDA_CACHE_SO') ? (string) constant('LAMBDA_CACHE_SO') : (string) getenv('LAMBDA_CACHE_SO');
        if ($so === '' || !is_file($so)) {
            throw new \RuntimeException(
                'LambdaCache tests: the path of the loaded extension is unknown; set LAMBDA_CACHE_SO to the .so file'
            );
        }
        return $so;
    }

    /** Runs $code to the end and returns its result. */
    /** @param array<string, string> $ini */
    public static function run(string $code, array $vars = [], array $env = [], float $timeout = 60.0, array $ini = []): ProcessResult
    {
        return self::start($code, $vars, $env, [], $ini)->wait($timeout);
    }

    /**
     * Starts $code in the background. $prefix is a command the PHP command line is appended to
     * (e.g. `unshare ... sh -c '...; exec "$@"' sh`, or `setpriv ...`).
     *
     * @param list<string> $prefix
     * @param array<string, string> $ini
     */
    public static function start(string $code, array $vars = [], array $env = [], array $prefix = [], array $ini = []): BackgroundProcess
    {
        $settings = [];
        foreach ($ini as $name => $value) {
            array_push($settings, '-d', "{$name}={$value}");
        }
        $script = self::tempFile('script', '.php');
        file_put_contents($script, self::script($code, $vars));
        // Readable by a child that runs under another uid (setpriv).
        chmod($script, 0644);
        $stdout = self::tempFile('stdout', '.txt');
        $stderr = self::tempFile('stderr', '.txt');
        $cmd = [
            ...$prefix,
            ...self::command(), '-n',
            '-d', 'extension=' . self::extensionPath(),
            '-d', 'error_reporting=-1',
            '-d', 'display_errors=stderr',
            '-d', 'log_errors=0',
            '-d', 'memory_limit=512M',
            ...$settings,
            $script,
        ];
        $environment = array_merge(getenv(), $env);
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $stdout, 'w'], 2 => ['file', $stderr, 'w']], $pipes, null, $environment);
        if (!is_resource($proc)) {
            throw new \RuntimeException('cannot start ' . self::shellCommand());
        }
        return new BackgroundProcess($proc, $stdout, $stderr, [$script]);
    }

    private static function script(string $code, array $vars): string
    {
        $head = "<?php\ndeclare(strict_types=1);\nrequire " . var_export(dirname(__DIR__) . '/autoload.php', true) . ";\n";
        $head .= "if (!extension_loaded('lambda_cache')) { fwrite(STDERR, \"lambda_cache not loaded\\n\"); exit(70); }\n";
        $head .= "set_error_handler(static function (int \$no, string \$msg, string \$file = '', int \$line = 0): bool {\n"
            . "    fwrite(STDERR, \"PHP error {\$no}: {\$msg} at {\$file}:{\$line}\\n\"); return true; });\n";
        foreach ($vars as $name => $value) {
            if (!is_string($name) || preg_match('/^[A-Za-z_][A-Za-z0-9_]*$/', $name) !== 1) {
                throw new \InvalidArgumentException("bad variable name {$name}");
            }
            $head .= '$' . $name . ' = ' . var_export($value, true) . ";\n";
        }
        return $head . $code . "\n";
    }

    private static function tempFile(string $kind, string $suffix): string
    {
        $dir = sys_get_temp_dir() . '/lambda-cache-tests';
        if (!is_dir($dir)) {
            @mkdir($dir, 0777, true);
        }
        return sprintf('%s/child-%s-%d-%s%s', $dir, $kind, getmypid(), bin2hex(random_bytes(6)), $suffix);
    }
}
