<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Ini;

use LambdaCache\Tests\Dynamo\DynamoTableFixture;
use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\ProcessResult;
use PHPUnit\Framework\TestCase;

/**
 * The DynamoDB pool's php.ini settings (table, endpoint, timeouts, attempts), in child
 * processes started with -d against the emulator: a setting is the default, an option
 * overrides it, the environment applies only without a setting, and invalid values fail
 * construction. Also what phpinfo() says of the process's runtime before and after a call.
 */
final class IniDynamoSettingsTest extends TestCase
{
    use DynamoTableFixture;

    /** Child code: saves $key with a strict pool made with $args, prints "saved". */
    private const SAVE = '$p = new LambdaCache\DynamoDbCachePool(...($args + ["namespace" => "ini", "strict" => true]));'
        . '$p->save($p->getItem($key)->set("v")); echo "saved";';

    /** Child code: a strict pool made with $args reads $key; prints how long it took and why it failed. */
    private const FAIL_TO_READ = '$p = new LambdaCache\DynamoDbCachePool(...($args + ["table" => "lc_silent", "namespace" => "ini", "strict" => true]));'
        . '$t = hrtime(true);'
        . 'try { $p->getItem("k"); echo "answered"; }'
        . 'catch (LambdaCache\CacheException $e) { echo json_encode([(hrtime(true) - $t) / 1e9, $e->getMessage()]); }';

    /**
     * @param array<string, mixed>  $args constructor arguments
     * @param array<string, string> $ini
     * @param array<string, string> $env
     */
    private function child(string $code, array $args, array $ini, array $env = [], array $vars = []): ProcessResult
    {
        // Neither endpoint variable is set by the harness; the table's is unset unless given.
        $env += ['DYNAMO_DB_TABLE' => '', 'AWS_ENDPOINT_URL_DYNAMODB' => '', 'AWS_ENDPOINT_URL' => ''];

        return Php::run($code, ['args' => $args] + $vars, $env, 60.0, $ini);
    }

    private function saved(string $key, array $args, array $ini, array $env = []): void
    {
        $r = $this->child(self::SAVE, $args, $ini, $env, ['key' => $key]);
        $this->assertSame('saved', $r->stdout, $r->describe());
    }

    private function holds(string $table, string $key): bool
    {
        return $this->dynamoPool(['table' => $table, 'namespace' => 'ini'])->getItem($key)->isHit();
    }

    /** A loopback port nothing listens on. */
    private static function closedPort(): string
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $address = stream_socket_get_name($server, false);
        fclose($server);

        return 'http://' . $address;
    }

    public function testTheTableSettingComesBeforeTheEnvironmentAndAfterTheOption(): void
    {
        $other = $this->createTestTable();
        $ini = ['lambda_cache.dynamodb_endpoint' => $this->endpoint];
        $this->saved('setting', [], $ini + ['lambda_cache.dynamodb_table' => $this->table], ['DYNAMO_DB_TABLE' => $other]);
        $this->saved('environment', [], $ini, ['DYNAMO_DB_TABLE' => $other]);
        $this->saved('option', ['table' => $other], $ini + ['lambda_cache.dynamodb_table' => $this->table]);
        $this->assertSame(
            ['setting' => [true, false], 'environment' => [false, true], 'option' => [false, true]],
            array_map(fn (string $key) => [$this->holds($this->table, $key), $this->holds($other, $key)], [
                'setting' => 'setting', 'environment' => 'environment', 'option' => 'option',
            ])
        );
    }

    public function testTheEndpointSettingComesBeforeTheEnvironmentAndAfterTheOption(): void
    {
        $closed = self::closedPort();
        $args = ['table' => $this->table, 'operationTimeoutMs' => 2000, 'maxAttempts' => 1];
        $this->saved('setting', $args, ['lambda_cache.dynamodb_endpoint' => $this->endpoint], ['AWS_ENDPOINT_URL_DYNAMODB' => $closed]);
        $this->saved('environment', $args, [], ['AWS_ENDPOINT_URL_DYNAMODB' => $this->endpoint]);
        $this->saved('option', $args + ['endpoint' => $this->endpoint], ['lambda_cache.dynamodb_endpoint' => $closed]);
        foreach (['setting', 'environment', 'option'] as $key) {
            $this->assertTrue($this->holds($this->table, $key), $key);
        }
        // The setting is used, not the environment: pointed at nothing, it fails.
        $r = $this->child(self::SAVE, $args, ['lambda_cache.dynamodb_endpoint' => $closed], ['AWS_ENDPOINT_URL_DYNAMODB' => $this->endpoint], ['key' => 'x']);
        $this->assertNotSame(0, $r->exitCode, $r->describe());
        $this->assertStringContainsString("DynamoDB GetItem on {$this->table}: no answer: client error (Connect)", $r->stderr);
    }

    public function testTheTimeoutSettingsAreTheDefaultsAndOptionsOverrideThem(): void
    {
        // Connections are taken (by the kernel) but never answered.
        $silent = stream_socket_server('tcp://127.0.0.1:0');
        $this->assertNotFalse($silent);
        $ini = ['lambda_cache.dynamodb_endpoint' => 'http://' . stream_socket_get_name($silent, false)];
        $read = function (array $args, array $settings) use ($ini): array {
            $r = $this->child(self::FAIL_TO_READ, $args, $ini + $settings);
            $this->assertSame(0, $r->exitCode, $r->describe());
            $result = json_decode($r->stdout, true);
            $this->assertIsArray($result, $r->describe());

            return $result;
        };

        [, $why] = $read([], ['lambda_cache.dynamodb_operation_timeout_ms' => '400']);
        $this->assertSame('LambdaCache: storage error: DynamoDB read on lc_silent: no answer within 400 ms', $why);
        [, $why] = $read(['operationTimeoutMs' => 250], ['lambda_cache.dynamodb_operation_timeout_ms' => '400']);
        $this->assertSame('LambdaCache: storage error: DynamoDB read on lc_silent: no answer within 250 ms', $why);

        // The attempt timeout, and how many attempts: 1 x 300 ms, then 4 x 300 ms (3, the
        // built-in default, would take 0.9-1.2 s; 1000 ms attempts would say so).
        $settings = ['lambda_cache.dynamodb_attempt_timeout_ms' => '300', 'lambda_cache.dynamodb_operation_timeout_ms' => '10000'];
        [$took, $why] = $read([], $settings + ['lambda_cache.dynamodb_max_attempts' => '1']);
        $this->assertSame('LambdaCache: storage error: DynamoDB GetItem on lc_silent: no answer within 300 ms', $why);
        $this->assertLessThan(0.85, $took);
        [$took, $why] = $read([], $settings + ['lambda_cache.dynamodb_max_attempts' => '4']);
        $this->assertSame('LambdaCache: storage error: DynamoDB GetItem on lc_silent: no answer within 300 ms', $why);
        $this->assertGreaterThanOrEqual(1.2, $took);
        [$took] = $read(['maxAttempts' => 1, 'attemptTimeoutMs' => 200], $settings + ['lambda_cache.dynamodb_max_attempts' => '4']);
        $this->assertLessThan(0.85, $took);
        fclose($silent);
    }

    public function testTheConnectTimeoutSettingIsTheDefault(): void
    {
        // A listening socket whose accept queue is full: the kernel drops new SYNs, so
        // connecting takes until the connect timeout (the built-in 1000 ms, or the setting).
        $full = stream_socket_server('tcp://127.0.0.1:0', $errno, $error, STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, stream_context_create(['socket' => ['backlog' => 0]]));
        $this->assertNotFalse($full, $error);
        $address = stream_socket_get_name($full, false);
        $fill = [];
        for ($i = 0; $i < 3; $i++) {
            $fill[] = stream_socket_client("tcp://{$address}", $errno, $error, 1, STREAM_CLIENT_CONNECT | STREAM_CLIENT_ASYNC_CONNECT);
        }
        usleep(100_000);
        $ini = [
            'lambda_cache.dynamodb_endpoint' => "http://{$address}",
            'lambda_cache.dynamodb_attempt_timeout_ms' => '5000',
            'lambda_cache.dynamodb_max_attempts' => '1',
            'lambda_cache.dynamodb_operation_timeout_ms' => '10000',
        ];
        $took = [];
        foreach (['setting' => ['lambda_cache.dynamodb_connect_timeout_ms' => '200'], 'built-in' => []] as $case => $settings) {
            $r = $this->child(self::FAIL_TO_READ, [], $ini + $settings);
            [$took[$case], $why] = json_decode($r->stdout, true) ?? [null, null];
            $this->assertStringContainsString('DynamoDB GetItem on lc_silent: no answer: client error (Connect)', (string) $why, $r->describe());
        }
        $this->assertLessThan(0.7, $took['setting']);
        $this->assertGreaterThanOrEqual(0.95, $took['built-in']);
        fclose($full);
    }

    public function testAnInvalidSettingFailsConstructionNamingIt(): void
    {
        $code = 'try { new LambdaCache\DynamoDbCachePool(table: "lc_t", connectTimeoutMs: 5, maxAttempts: 2); echo "accepted"; }'
            . ' catch (LambdaCache\InvalidArgumentException $e) { echo $e->getPrevious()->getCode(), " ", $e->getMessage(); }';
        foreach ([
            'dynamodb_connect_timeout_ms' => ['0', 'a positive integer'],
            'dynamodb_attempt_timeout_ms' => ['1.5', 'a positive integer'],
            'dynamodb_operation_timeout_ms' => ['-3', 'a positive integer'],
            'dynamodb_max_attempts' => ['three', 'a positive integer'],
        ] as $name => [$bad, $expected]) {
            $r = $this->child($code, [], ["lambda_cache.{$name}" => $bad]);
            $this->assertSame(
                "2 LambdaCache: invalid configuration: php.ini setting lambda_cache.{$name} = \"{$bad}\": expected {$expected}",
                $r->stdout,
                $r->describe()
            );
        }
        // A bad table or endpoint from the setting is refused as the option would be.
        $r = $this->child($code, [], ['lambda_cache.dynamodb_endpoint' => 'http://host/path']);
        $this->assertStringStartsWith('2 LambdaCache: invalid configuration: endpoint "http://host/path" has a path', $r->stdout, $r->describe());
        $r = $this->child(str_replace('table: "lc_t", ', '', $code), [], ['lambda_cache.dynamodb_table' => 'a b']);
        $this->assertSame('2 LambdaCache: invalid configuration: "a b" is not a DynamoDB table name (3-255 of A-Za-z0-9_.-)', $r->stdout, $r->describe());
    }

    public function testPhpinfoShowsTheRuntimeStateBeforeAndAfterACall(): void
    {
        $code = '$state = function (): string { ob_start(); phpinfo(INFO_MODULES);'
            . ' preg_match_all("/^(Tokio runtime created|DynamoDB client created|DynamoDB credential source) => (.*)$/m", ob_get_clean(), $m);'
            . ' return implode(", ", $m[2]); };'
            . 'echo $state(), "\n";'
            . '$p = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint);'
            . 'echo $state(), "\n";'
            . '$p->getItem("k"); echo $state(), "\n";'
            . '$q = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, accessKeyId: "AKIDOTHER", secretAccessKey: "s");'
            . '$q->hasItem("k"); echo $state(), "\n";';
        $r = Php::run($code, ['table' => $this->table, 'endpoint' => $this->endpoint]);
        $this->assertSame(0, $r->exitCode, $r->describe());
        $this->assertSame(
            "no, no, none yet\n"
            . "no, no, environment\n"
            . "yes (1 in this process), yes (1 in this process), environment\n"
            . "yes (1 in this process), yes (2 in this process), options\n",
            $r->stdout,
            $r->describe()
        );
    }
}
