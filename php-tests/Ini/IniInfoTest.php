<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Ini;

use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * `php --ri lambda_cache`: the version and the build facts (commit, target, glibc floor, PHP
 * extension API), this process's runtime state, and every php.ini setting with its value.
 */
final class IniInfoTest extends TestCase
{
    private const SETTINGS = [
        'lambda_cache.tmp_directory' => '/srv/cache dir',
        'lambda_cache.tmp_max_bytes' => '64M',
        'lambda_cache.dynamodb_table' => 'cache-table',
        'lambda_cache.dynamodb_endpoint' => 'http://127.0.0.1:4567',
        'lambda_cache.dynamodb_connect_timeout_ms' => '111',
        'lambda_cache.dynamodb_attempt_timeout_ms' => '222',
        'lambda_cache.dynamodb_operation_timeout_ms' => '333',
        'lambda_cache.dynamodb_max_attempts' => '4',
        'lambda_cache.metrics_emf' => 'MyApp/Cache',
    ];

    /**
     * @param array<string, string> $ini
     * @return array<string, string> "Name => value" rows, the settings' rows as "local => master"
     */
    private static function ri(array $ini): array
    {
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . Php::extensionPath()];
        foreach ($ini as $name => $value) {
            array_push($cmd, '-d', "{$name}={$value}");
        }
        array_push($cmd, '--ri', 'lambda_cache');
        $proc = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        self::assertSame(0, proc_close($proc), $out . $err);
        self::assertSame('', $err);
        preg_match_all('/^(.+?) => (.*)$/m', $out, $m, PREG_SET_ORDER);
        $rows = [];
        foreach ($m as [, $name, $value]) {
            $rows[$name] = $value;
        }

        return $rows;
    }

    /** What this PHP says of itself in phpinfo(INFO_GENERAL). */
    private static function general(string $name): string
    {
        ob_start();
        phpinfo(INFO_GENERAL);
        preg_match('/^' . preg_quote($name, '/') . ' => (.*)$/m', (string) ob_get_clean(), $m);

        return $m[1] ?? '';
    }

    public function testItShowsTheVersionTheBuildAndTheStateOfAFreshProcess(): void
    {
        $rows = self::ri([]);
        $this->assertSame('enabled', $rows['LambdaCache support'] ?? null);
        $this->assertSame(lambda_cache_version(), $rows['Version'] ?? null);
        $this->assertSame(php_uname('m') . '-unknown-linux-gnu', $rows['Target'] ?? null);
        // The PHP this .so was built against is the one loading it (PHP refuses others).
        $this->assertSame(self::general('PHP Extension'), $rows['PHP extension API (built against)'] ?? null);
        $this->assertSame('no', $rows['Tokio runtime created'] ?? null);
        $this->assertSame('no', $rows['DynamoDB client created'] ?? null);
        $this->assertSame('none yet', $rows['DynamoDB credential source'] ?? null);
    }

    public function testTheCommitIsOneOfThisCheckoutsOrUnknown(): void
    {
        $commit = self::ri([])['Git commit'] ?? '';
        // "unknown" where the build had no git (a source tarball, the PHP 8.4 root).
        $this->assertMatchesRegularExpression('/^(?:unknown|[0-9a-f]{10}(?:-dirty)?)$/', $commit);
        exec('git -C ' . escapeshellarg(dirname(__DIR__, 2)) . ' rev-parse --git-dir 2>/dev/null', $out, $code);
        if ($commit !== 'unknown' && $code === 0) {
            $hash = substr($commit, 0, 10);
            exec('git -C ' . escapeshellarg(dirname(__DIR__, 2)) . " cat-file -t {$hash} 2>&1", $type, $code);
            $this->assertSame(['commit'], $type, "{$hash} is not a commit of this checkout");
        }
    }

    public function testTheGlibcFloorCoversEverySymbolTheExtensionNeeds(): void
    {
        $floor = self::ri([])['glibc floor'] ?? '';
        $this->assertMatchesRegularExpression('/^2\.\d+ \((?:cargo-zigbuild target|the build host\'s glibc|given)\)$/', $floor);
        $floor = strtok($floor, ' ');
        exec('objdump -T ' . escapeshellarg(Php::extensionPath()), $out, $code);
        $this->assertSame(0, $code, implode("\n", $out));
        preg_match_all('/GLIBC_([0-9]+(?:\.[0-9]+)+)/', implode("\n", $out), $m);
        $this->assertNotEmpty($m[1], 'no versioned glibc symbols found');
        $newest = array_reduce($m[1], static fn (string $a, string $b) => version_compare($a, $b, '>=') ? $a : $b, '0');
        $this->assertTrue(version_compare($newest, $floor, '<='), "the .so needs GLIBC_{$newest}, newer than its floor {$floor}");
    }

    public function testItShowsEverySettingWithItsValue(): void
    {
        $rows = self::ri([]);
        foreach (array_keys(self::SETTINGS) as $name) {
            $this->assertSame('no value => no value', $rows[$name] ?? null, $name);
        }
        $rows = self::ri(self::SETTINGS);
        foreach (self::SETTINGS as $name => $value) {
            $this->assertSame("{$value} => {$value}", $rows[$name] ?? null, $name);
        }
        $this->assertSame(
            array_keys(self::SETTINGS),
            array_values(array_filter(array_keys($rows), static fn (string $k) => str_starts_with($k, 'lambda_cache.'))),
            'the settings, and no others'
        );
    }
}
