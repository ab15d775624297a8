<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Dynamo;

use LambdaCache\DynamoDbCachePool;
use LambdaCache\InvalidArgumentException;
use LambdaCache\Native\DynamoDbStore;
use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * What the DynamoDB pool's constructor refuses, and what its exceptions show: no call is sent,
 * so no emulator is needed.
 */
final class DynamoStoreConstructionTest extends TestCase
{
    private const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYzSecretKeyOfThisTest';
    private const TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////SessionTokenOfThisTest';

    private string|false $ignoreArgs = false;

    protected function setUp(): void
    {
        // Production php.ini files leave arguments out of traces; error trackers and
        // development setups keep them.
        $this->ignoreArgs = ini_set('zend.exception_ignore_args', '0');
    }

    protected function tearDown(): void
    {
        if ($this->ignoreArgs !== false) {
            ini_set('zend.exception_ignore_args', $this->ignoreArgs);
        }
    }

    /**
     * Where a credential shows in an exception chain's traces: getTrace() dumped as an error
     * tracker records it (print_r shows objects' properties and closures' variables) and
     * getTraceAsString(), which shows the first 15 characters of a string argument.
     *
     * @return list<string>
     */
    private static function leaks(\Throwable $e): array
    {
        $leaks = [];
        for ($i = 0; $e !== null; $e = $e->getPrevious(), $i++) {
            $shown = ['getTrace()' => print_r($e->getTrace(), true), 'getTraceAsString()' => $e->getTraceAsString()];
            foreach ($shown as $how => $text) {
                foreach (['secretAccessKey' => self::SECRET, 'sessionToken' => self::TOKEN] as $what => $secret) {
                    if (str_contains($text, substr($secret, 0, 12))) {
                        $leaks[] = "{$what} in " . get_class($e) . " #{$i} {$how}";
                    }
                }
            }
        }

        return $leaks;
    }

    public function testThePoolsConstructorExceptionsHoldNoSecret(): void
    {
        try {
            new DynamoDbCachePool(
                table: 'lc_secrets',
                region: 'eu-west-1',
                endpoint: 'htps://dynamodb.eu-west-1.amazonaws.com',
                accessKeyId: 'AKIDEXAMPLE',
                secretAccessKey: self::SECRET,
                sessionToken: self::TOKEN,
            );
            $this->fail('a typo in the endpoint was accepted');
        } catch (InvalidArgumentException $e) {
            $this->assertStringContainsString('endpoint', $e->getMessage());
            $this->assertNotNull($e->getPrevious(), 'the native exception is kept as the previous one');
            $this->assertNotEmpty($e->getTrace()[0]['args'] ?? [], 'traces hold arguments in this test');
            $this->assertSame([], self::leaks($e));
        }
    }

    public function testTheNativeConstructorsExceptionsHoldNoSecret(): void
    {
        $options = [
            'table' => 'lc_secrets', 'region' => 'eu-west-1', 'endpoint' => 'htps://typo',
            'accessKeyId' => 'AKIDEXAMPLE', 'secretAccessKey' => self::SECRET, 'sessionToken' => self::TOKEN,
        ];
        $thrown = [];
        // A refused option, and an error thrown while the constructor's frame is on the stack
        // (its arguments in the trace).
        foreach (['a typo in the endpoint' => [$options, false], 'a missing argument' => [$options]] as $case => $arguments) {
            try {
                new DynamoDbStore(...$arguments);
                $this->fail("{$case} was accepted");
            } catch (\LambdaCache\Native\InvalidArgumentException | \ArgumentCountError $e) {
                $thrown[$case] = $e;
                $this->assertSame([], self::leaks($e), $case);
            }
        }
        $frame = $thrown['a missing argument']->getTrace()[0];
        $this->assertSame([DynamoDbStore::class, '__construct'], [$frame['class'] ?? null, $frame['function']]);
        $this->assertInstanceOf(\SensitiveParameterValue::class, $frame['args'][0] ?? null);
        $this->assertSame(\count($options), \count($frame['args'][0]->getValue()));
        $parameter = (new \ReflectionMethod(DynamoDbStore::class, '__construct'))->getParameters()[0];
        $this->assertSame(['SensitiveParameter'], array_map(static fn ($a) => $a->getName(), $parameter->getAttributes()));
    }

    public function testAnUncaughtConstructorExceptionPrintsNoSecret(): void
    {
        // A child without php.ini: arguments in traces (zend.exception_ignore_args=0).
        $r = Php::run(
            'new LambdaCache\DynamoDbCachePool(table: "lc_secrets", region: "eu-west-1", endpoint: "htps://typo",'
            . ' accessKeyId: "AKIDEXAMPLE", secretAccessKey: $secret, sessionToken: $token);',
            ['secret' => self::SECRET, 'token' => self::TOKEN]
        );
        $output = $r->stdout . $r->stderr;
        $this->assertNotSame(0, $r->exitCode, $r->describe());
        $this->assertStringContainsString('Next LambdaCache\InvalidArgumentException', $output, $r->describe());
        $this->assertStringContainsString('Object(SensitiveParameterValue)', $output, $r->describe());
        foreach ([self::SECRET, self::TOKEN] as $secret) {
            $this->assertStringNotContainsString(substr($secret, 0, 12), $output, $r->describe());
        }
    }

    public function testEndpointsWithAPathAQueryOrUserInformationAreRefused(): void
    {
        $refused = [];
        foreach (['http://127.0.0.1:8000/prefix/path?x=1', 'http://127.0.0.1:8000/?x=1', 'http://user:p4ssw0rd@127.0.0.1:8000'] as $endpoint) {
            try {
                new DynamoDbCachePool(table: 'lc_endpoint', region: 'eu-west-1', endpoint: $endpoint, accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret');
            } catch (InvalidArgumentException $e) {
                $this->assertInstanceOf(\Psr\Cache\InvalidArgumentException::class, $e);
                $this->assertStringNotContainsString('p4ssw0rd', $e->getMessage());
                $refused[] = $endpoint;
            }
        }
        $this->assertSame(['http://127.0.0.1:8000/prefix/path?x=1', 'http://127.0.0.1:8000/?x=1', 'http://user:p4ssw0rd@127.0.0.1:8000'], $refused);
        // A trailing slash alone is fine.
        $this->assertInstanceOf(DynamoDbCachePool::class, new DynamoDbCachePool(table: 'lc_endpoint', region: 'eu-west-1', endpoint: 'http://127.0.0.1:8000/', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret'));
    }
}
