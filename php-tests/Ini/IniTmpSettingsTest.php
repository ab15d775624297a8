<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Ini;

use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\ProcessResult;
use LambdaCache\Tests\Support\TempDir;
use LambdaCache\TmpCachePool;
use PHPUnit\Framework\TestCase;

/**
 * The /tmp pool's php.ini settings (lambda_cache.tmp_directory, lambda_cache.tmp_max_bytes), in
 * child processes started with -d: a setting is the default, an option overrides it, PHP's
 * temporary directory (TMPDIR) still applies without one, and invalid values fail construction.
 */
final class IniTmpSettingsTest extends TestCase
{
    private string $root = '';

    protected function setUp(): void
    {
        $this->root = TempDir::create('ini-tmp');
    }

    protected function tearDown(): void
    {
        TempDir::remove($this->root);
    }

    /** @param array<string, string> $ini */
    private function child(string $code, array $ini, array $env = []): ProcessResult
    {
        $r = Php::run($code, ['root' => $this->root], $env, 60.0, $ini);
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertSame('', $r->stderr, $r->describe());

        return $r;
    }

    public function testTheDirectorySettingIsTheDefaultAndTheOptionOverridesIt(): void
    {
        $this->child(
            '$a = new LambdaCache\TmpCachePool(namespace: "ini");'
            . '$a->save($a->getItem("k")->set("from the setting"));'
            . '$b = new LambdaCache\TmpCachePool(namespace: "ini", directory: "$root/option");'
            . '$b->save($b->getItem("k")->set("from the option"));',
            ['lambda_cache.tmp_directory' => $this->root . '/setting'],
            ['TMPDIR' => $this->root . '/env'],
        );
        $this->assertFileDoesNotExist($this->root . '/env/lambda-cache/data.mdb');
        foreach (['setting' => 'from the setting', 'option' => 'from the option'] as $dir => $value) {
            $pool = new TmpCachePool(namespace: 'ini', directory: "{$this->root}/{$dir}");
            $this->assertSame($value, $pool->getItem('k')->get(), $dir);
        }
    }

    public function testWithoutTheSettingPhpsTemporaryDirectoryIsUsed(): void
    {
        // php -n: no sys_temp_dir, so sys_get_temp_dir() is TMPDIR.
        mkdir($this->root . '/env', 0700);
        $r = $this->child(
            '$a = new LambdaCache\TmpCachePool(namespace: "ini");'
            . '$a->save($a->getItem("k")->set("from TMPDIR")); echo sys_get_temp_dir();',
            [],
            ['TMPDIR' => $this->root . '/env'],
        );
        $this->assertSame($this->root . '/env', $r->stdout);
        $pool = new TmpCachePool(namespace: 'ini', directory: $this->root . '/env/lambda-cache');
        $this->assertSame('from TMPDIR', $pool->getItem('k')->get());
    }

    public function testTheBudgetSettingIsTheDefaultAndTheOptionOverridesIt(): void
    {
        $code = '$budget = fn (LambdaCache\TmpCachePool $p): int => $p->stats()["max_bytes"];'
            . 'echo json_encode(['
            . '$budget(new LambdaCache\TmpCachePool(directory: "$root/" . uniqid())),'
            . '$budget(new LambdaCache\TmpCachePool(directory: "$root/" . uniqid(), maxBytes: 3 * 1048576)),'
            . ']);';
        $r = $this->child($code, ['lambda_cache.tmp_max_bytes' => '2M']);
        $this->assertSame([2 * 1048576, 3 * 1048576], json_decode($r->stdout));
        $r = $this->child($code, ['lambda_cache.tmp_max_bytes' => '1048576']);
        $this->assertSame([1048576, 3 * 1048576], json_decode($r->stdout));
        $r = $this->child($code, []);
        $this->assertSame([TmpCachePool::DEFAULT_MAX_BYTES, 3 * 1048576], json_decode($r->stdout));
    }

    public function testSettingsCanBeChangedAtRuntime(): void
    {
        // PHP_INI_ALL: ini_set() works, and the next pool takes the new value.
        $r = $this->child(
            'var_export(ini_set("lambda_cache.tmp_max_bytes", "1M")); echo " ";'
            . 'echo (new LambdaCache\TmpCachePool(directory: "$root/a"))->stats()["max_bytes"];',
            ['lambda_cache.tmp_max_bytes' => '2M'],
        );
        $this->assertSame("'2M' 1048576", $r->stdout);
    }

    public function testAnInvalidSettingFailsConstructionNamingIt(): void
    {
        $code = 'foreach ([fn () => new LambdaCache\TmpCachePool(directory: "$root/a"),'
            . ' fn () => new LambdaCache\TmpCachePool(directory: "$root/b", maxBytes: 1048576)] as $make) {'
            . '  try { $make(); echo "accepted\n"; }'
            . '  catch (LambdaCache\InvalidArgumentException $e) {'
            . '    echo get_class($e->getPrevious()), " ", $e->getPrevious()->getCode(), " ", $e->getMessage(), "\n"; } }';
        foreach (['12x', '-1', 'M', '1.5M'] as $bad) {
            $r = $this->child($code, ['lambda_cache.tmp_max_bytes' => $bad]);
            $expected = 'LambdaCache\Native\InvalidArgumentException 2 LambdaCache: invalid configuration: php.ini setting'
                . " lambda_cache.tmp_max_bytes = \"{$bad}\": expected a size in bytes, optionally with K, M or G"
                . ' (e.g. 134217728 or 128M)';
            // Also when the option would override it: a broken php.ini is never silently ignored.
            $this->assertSame("{$expected}\n{$expected}\n", $r->stdout, $bad);
        }
        // A budget below the store's minimum is refused by the store, as from the option.
        $r = $this->child($code, ['lambda_cache.tmp_max_bytes' => '1K']);
        $this->assertStringStartsWith('LambdaCache\Native\InvalidArgumentException 2 ', $r->stdout);
        $this->assertStringContainsString('must be at least 262144, got 1024', $r->stdout);
        $this->assertStringEndsWith("\naccepted\n", $r->stdout);
    }

    public function testTheDynamoDbSettingsDoNotConcernTheTmpPool(): void
    {
        $r = $this->child(
            'echo (new LambdaCache\TmpCachePool(directory: "$root/a"))->stats()["entries"];',
            ['lambda_cache.dynamodb_max_attempts' => 'many'],
        );
        $this->assertSame('0', $r->stdout);
    }
}
