<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Cli;

use LambdaCache\Cli\ExitCode;
use LambdaCache\TmpCachePool;
use LambdaCache\Tests\Support\TempDir;
use PHPUnit\Framework\TestCase;

/**
 * bin/lambda-cache on the /tmp store, run as a child process against a fresh directory: every
 * command, human and --json output, the exit statuses, one-line errors for bad command lines.
 */
final class CliTmpStoreTest extends TestCase
{
    private string $dir = '';

    protected function setUp(): void
    {
        $this->dir = TempDir::create('cli');
    }

    protected function tearDown(): void
    {
        TempDir::remove($this->dir);
    }

    private function pool(string $namespace = 'app', bool|array $allowedClasses = false): TmpCachePool
    {
        return new TmpCachePool(namespace: $namespace, directory: $this->dir, allowedClasses: $allowedClasses, strict: true);
    }

    /** @param list<string> $args */
    private function cli(array $args): \LambdaCache\Tests\Support\ProcessResult
    {
        return LambdaCacheCommand::run([...$args, '--store=tmp', '--directory=' . $this->dir]);
    }

    public function testGetPrintsStringsAsTheyAreAndOtherValuesExported(): void
    {
        $pool = $this->pool();
        $values = ['text' => "two\nlines", 'binary' => "\xff\x00\x01", 'int' => 42, 'list' => [1, 'a' => [true, null]], 'float' => 1.5];
        foreach ($values as $key => $value) {
            $this->assertTrue($pool->save($pool->getItem($key)->set($value)));
        }
        foreach ($values as $key => $value) {
            $r = $this->cli(['get', $key, '--namespace=app']);
            $this->assertSame(ExitCode::OK, $r->exitCode, $r->describe());
            $this->assertSame(is_string($value) ? $value : var_export($value, true) . "\n", $r->stdout, "get {$key}");
            $this->assertSame('', $r->stderr, "get {$key}");
        }
        $other = $this->cli(['get', 'text', '--namespace=other']);
        $this->assertSame(ExitCode::NOT_FOUND, $other->exitCode, 'namespaces are apart: ' . $other->describe());
    }

    public function testGetJsonGivesTheTypeAndAnEncodingJsonCanHold(): void
    {
        $pool = $this->pool();
        $pool->save($pool->getItem('s')->set('hello'));
        $pool->save($pool->getItem('b')->set("\xff\xfe"));
        $pool->save($pool->getItem('a')->set(['x' => [1, 2.0], 'y' => null]));
        $pool->save($pool->getItem('inf')->set(INF));
        $pool->save($pool->getItem('f')->set(false));

        $this->assertSame(
            ['key' => 's', 'found' => true, 'type' => 'string', 'encoding' => 'json', 'value' => 'hello'],
            LambdaCacheCommand::json($this->cli(['get', 's', '--namespace=app', '--json']))
        );
        $b = LambdaCacheCommand::json($this->cli(['--json', 'get', 'b', '--namespace=app']));
        $this->assertSame(['type' => 'string', 'encoding' => 'base64'], ['type' => $b['type'], 'encoding' => $b['encoding']]);
        $this->assertSame("\xff\xfe", base64_decode($b['value'], true));
        $a = $this->cli(['get', 'a', '--namespace=app', '--json']);
        $this->assertSame(ExitCode::OK, $a->exitCode);
        $this->assertStringContainsString('"value":{"x":[1,2.0],"y":null}', $a->stdout, 'floats keep their fraction');
        $this->assertSame('array', LambdaCacheCommand::json($a)['type']);
        $this->assertSame(
            ['key' => 'inf', 'found' => true, 'type' => 'float', 'encoding' => 'var_export', 'value' => 'INF'],
            LambdaCacheCommand::json($this->cli(['get', 'inf', '--namespace=app', '--json']))
        );
        $this->assertSame(
            ['key' => 'f', 'found' => true, 'type' => 'bool', 'encoding' => 'json', 'value' => false],
            LambdaCacheCommand::json($this->cli(['get', 'f', '--namespace=app', '--json']))
        );

        $miss = $this->cli(['get', 'missing', '--namespace=app', '--json']);
        $this->assertSame(ExitCode::NOT_FOUND, $miss->exitCode, $miss->describe());
        $this->assertSame(['key' => 'missing', 'found' => false], LambdaCacheCommand::json($miss));
        $human = $this->cli(['get', 'missing', '--namespace=app']);
        $this->assertSame(ExitCode::NOT_FOUND, $human->exitCode);
        $this->assertSame('', $human->stdout, 'a miss prints no value');
        $this->assertSame("lambda-cache: key \"missing\" not found\n", $human->stderr);
    }

    public function testGetOfObjectsFollowsAllowedClasses(): void
    {
        $pool = $this->pool('objects', [\DateTimeImmutable::class]);
        $this->assertTrue($pool->save($pool->getItem('when')->set(new \DateTimeImmutable('2020-01-02 03:04:05', new \DateTimeZone('UTC')))));

        foreach (['none', 'stdClass,ArrayObject'] as $allowed) {
            $refused = $this->cli(['get', 'when', '--namespace=objects', "--allowed-classes={$allowed}"]);
            LambdaCacheCommand::assertOneLineError($refused, ExitCode::STORE_ERROR, '/DateTimeImmutable/', "--allowed-classes={$allowed}");
            $this->assertSame('', $refused->stdout);
        }
        foreach (['DateTimeImmutable', 'all', 'stdClass, \DateTimeImmutable'] as $allowed) {
            $r = $this->cli(['get', 'when', '--namespace=objects', "--allowed-classes={$allowed}"]);
            $this->assertSame(ExitCode::OK, $r->exitCode, $r->describe());
            $this->assertStringContainsString('DateTimeImmutable::__set_state', $r->stdout, "--allowed-classes={$allowed}");
            $this->assertStringContainsString('2020-01-02 03:04:05', $r->stdout);
        }
        $json = LambdaCacheCommand::json($this->cli(['get', 'when', '--namespace=objects', '--allowed-classes=DateTimeImmutable', '--json']));
        $this->assertSame(['DateTimeImmutable', 'var_export'], [$json['type'], $json['encoding']]);
        $this->assertStringContainsString('2020-01-02 03:04:05', $json['value']);

        $bad = $this->cli(['get', 'when', '--namespace=objects', '--allowed-classes=Not-A-Class']);
        LambdaCacheCommand::assertOneLineError($bad, ExitCode::USAGE, '/--allowed-classes/', 'a bad class list');
    }

    public function testStatsDeleteAndClear(): void
    {
        $pool = $this->pool();
        $pool->save($pool->getItem('a')->set('1'));
        $pool->save($pool->getItem('b')->set('2'));
        $kept = $this->pool('kept');
        $kept->save($kept->getItem('a')->set('other namespace'));

        $stats = $this->cli(['stats', '--json']);
        $this->assertSame(ExitCode::OK, $stats->exitCode, $stats->describe());
        $data = LambdaCacheCommand::json($stats);
        $this->assertSame(['store', 'directory', 'namespace', 'entries', 'bytes_used', 'max_bytes', 'evictions'], array_keys($data));
        $this->assertSame(['tmp', $this->dir, '', 3, TmpCachePool::DEFAULT_MAX_BYTES], [$data['store'], $data['directory'], $data['namespace'], $data['entries'], $data['max_bytes']]);
        $this->assertGreaterThan(0, $data['bytes_used']);
        $human = $this->cli(['stats']);
        $this->assertSame(ExitCode::OK, $human->exitCode);
        $this->assertStringContainsString("\nentries: 3\n", $human->stdout);
        $this->assertStringContainsString("store: tmp\n", $human->stdout);

        $deleted = $this->cli(['delete', 'a', '--namespace=app', '--json']);
        $this->assertSame(ExitCode::OK, $deleted->exitCode, $deleted->describe());
        $this->assertSame(['store' => 'tmp', 'directory' => $this->dir, 'namespace' => 'app', 'key' => 'a', 'deleted' => true], LambdaCacheCommand::json($deleted));
        $this->assertFalse($pool->hasItem('a'), 'delete deleted the key');
        $this->assertTrue($pool->hasItem('b'));
        $again = $this->cli(['delete', 'a', '--namespace=app']);
        $this->assertSame([ExitCode::OK, "deleted \"a\"\n"], [$again->exitCode, $again->stdout], 'deleting a missing key is fine');

        $cleared = $this->cli(['clear', '--namespace=app', '--json']);
        $this->assertSame(ExitCode::OK, $cleared->exitCode, $cleared->describe());
        $this->assertSame(['store' => 'tmp', 'directory' => $this->dir, 'namespace' => 'app', 'cleared' => true], LambdaCacheCommand::json($cleared));
        $this->assertSame('', $cleared->stderr, 'a small clear says nothing on stderr');
        $this->assertFalse($pool->hasItem('b'), 'clear cleared the namespace');
        $this->assertSame('other namespace', $kept->getItem('a')->get(), 'and only that namespace');
        $human = $this->cli(['clear', '--namespace=app']);
        $this->assertSame([ExitCode::OK, "cleared namespace \"app\"\n"], [$human->exitCode, $human->stdout]);
    }

    public function testMaxBytesIsTheBudgetOfANewDirectory(): void
    {
        $data = LambdaCacheCommand::json($this->cli(['stats', '--max-bytes=1048576', '--json']));
        $this->assertSame(1048576, $data['max_bytes']);
        $bad = $this->cli(['stats', '--max-bytes=1M']);
        LambdaCacheCommand::assertOneLineError($bad, ExitCode::USAGE, '/--max-bytes must be a number of bytes/', '--max-bytes=1M');
        $small = $this->cli(['stats', '--max-bytes=1000']);
        LambdaCacheCommand::assertOneLineError($small, ExitCode::USAGE, '/.+/', 'a budget under the minimum');
    }

    public function testClearOfABigDirectorySaysWhatItDoesOnStderr(): void
    {
        $pool = $this->pool('big');
        $values = [];
        for ($i = 0; $i < 10000; $i++) {
            $values["k{$i}"] = "v{$i}";
        }
        $this->assertTrue($pool->storeMany($values, null));
        $r = $this->cli(['clear', '--namespace=big', '--json']);
        $this->assertSame(ExitCode::OK, $r->exitCode, $r->describe());
        $this->assertSame(['store' => 'tmp', 'directory' => $this->dir, 'namespace' => 'big', 'cleared' => true], LambdaCacheCommand::json($r), 'progress stays off stdout');
        $this->assertStringStartsWith("lambda-cache: clearing namespace \"big\" (the directory holds 10000 entries)...\n", $r->stderr);
        $this->assertSame(0, $pool->stats()['entries']);
        $quiet = $this->cli(['clear', '--namespace=big', '--quiet']);
        $this->assertSame([ExitCode::OK, ''], [$quiet->exitCode, $quiet->stderr]);
    }

    public function testBadCommandLinesFailWithOneLineAndStatus2(): void
    {
        $cases = [
            'an unknown flag' => [['stats', '--colour'], '/unknown option --colour/'],
            'an unknown short flag' => [['stats', '-x'], '/unknown option -x/'],
            'an unknown command' => [['flush'], "/unknown command 'flush'/"],
            'no command' => [[], '/no command given/'],
            'get without a key' => [['get'], '/get needs a KEY/'],
            'delete without a key' => [['delete'], '/delete needs a KEY/'],
            'too many arguments' => [['stats', 'extra'], "/too many arguments for stats: 'extra'/"],
            'a bad store' => [['stats', '--store=redis'], "/--store must be tmp or dynamodb, not 'redis'/"],
            'a flag of the other store' => [['stats', '--store=tmp', '--table=t'], '/--table is a flag of --store=dynamodb/'],
            'create-table on tmp' => [['create-table', '--store=tmp'], '/create-table is for --store=dynamodb/'],
            'a flag without its value' => [['stats', '--namespace'], '/--namespace needs a value/'],
            'a switch with a value' => [['stats', '--json=yes'], '/--json takes no value/'],
            'a bad key' => [['get', 'a{b}'], '/reserved character/'],
            'a bad namespace' => [['stats', '--namespace=no spaces'], '/namespace/'],
        ];
        foreach ($cases as $what => [$args, $pattern]) {
            $r = LambdaCacheCommand::run([...$args, '--directory=' . $this->dir]);
            LambdaCacheCommand::assertOneLineError($r, ExitCode::USAGE, $pattern, $what);
            $this->assertStringEndsWith("(see lambda-cache --help)\n", $r->stderr, $what);
            $this->assertSame('', $r->stdout, $what);
        }
        $json = LambdaCacheCommand::run(['--json', 'flush']);
        LambdaCacheCommand::assertOneLineError($json, ExitCode::USAGE, "/unknown command 'flush'/", '--json and a bad command');
        $this->assertSame(['error' => "unknown command 'flush' (commands: stats, get, delete, clear, create-table)", 'exit_code' => 2], LambdaCacheCommand::json($json));
    }

    public function testKeysStartingWithADashFollowDoubleDash(): void
    {
        $pool = $this->pool();
        $pool->save($pool->getItem('-dash')->set('dashed'));
        $r = LambdaCacheCommand::run(['get', '--namespace', 'app', '--directory', $this->dir, '--', '-dash']);
        $this->assertSame([ExitCode::OK, 'dashed'], [$r->exitCode, $r->stdout], $r->describe());
    }

    public function testHelpListsCommandsFlagsAndExitStatuses(): void
    {
        foreach ([['--help'], ['-h'], ['help'], ['get', '--help']] as $args) {
            $r = LambdaCacheCommand::run($args);
            $this->assertSame(ExitCode::OK, $r->exitCode, $r->describe());
            $this->assertSame('', $r->stderr);
            foreach (['stats', 'get KEY', 'delete KEY', 'clear', 'create-table', '--store=tmp|dynamodb', '--directory', '--max-bytes',
                '--namespace', '--table', 'DYNAMO_DB_TABLE', '--region', '--endpoint', '--allowed-classes', '--json', '--quiet'] as $word) {
                $this->assertStringContainsString($word, $r->stdout, implode(' ', $args));
            }
            for ($code = 0; $code <= 5; $code++) {
                $this->assertMatchesRegularExpression("/^  {$code}  \\S/m", $r->stdout, "exit status {$code} is explained");
            }
        }
    }

    public function testWithoutTheExtensionItSaysSoInOneLine(): void
    {
        $r = LambdaCacheCommand::run(['stats', '--directory=' . $this->dir], withExtension: false);
        LambdaCacheCommand::assertOneLineError($r, ExitCode::STORE_ERROR, '/the lambda_cache extension is not loaded/', 'no extension');
        $this->assertSame('', $r->stdout);
    }

    public function testARefusedDirectoryIsAStoreError(): void
    {
        chmod($this->dir, 0777);
        $r = $this->cli(['stats', '--json']);
        LambdaCacheCommand::assertOneLineError($r, ExitCode::STORE_ERROR, '/writable by group or others|refused|not safe/i', 'a directory writable by others');
        $this->assertSame(ExitCode::STORE_ERROR, LambdaCacheCommand::json($r)['exit_code']);
    }
}
