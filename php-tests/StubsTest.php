<?php

declare(strict_types=1);

namespace LambdaCache\Tests;

use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\StubSignature;
use PHPUnit\Framework\TestCase;

/**
 * stubs/ must describe exactly what the loaded extension declares: the same classes,
 * functions, methods, parameters and types. The stubs are reflected in a PHP process without
 * the extension and compared with the extension's own reflection.
 */
final class StubsTest extends TestCase
{
    public function testStubsMatchTheLoadedExtension(): void
    {
        $ext = new \ReflectionExtension('lambda_cache');
        $names = ['functions' => \array_keys($ext->getFunctions()), 'classes' => $ext->getClassNames()];
        \sort($names['classes']);
        $actual = StubSignature::describe($names);

        $script = \sprintf(
            'require %s; require %s; echo json_encode(%s::describe(json_decode(%s, true)));',
            \var_export(__DIR__ . '/Support/StubSignature.php', true),
            \var_export(\dirname(__DIR__) . '/stubs/lambda_cache.stub.php', true),
            '\\' . StubSignature::class,
            \var_export(\json_encode($names), true)
        );
        $out = \shell_exec(Php::shellCommand() . ' -n -d error_reporting=-1 -r ' . \escapeshellarg($script) . ' 2>&1');
        $stubs = \json_decode((string) $out, true);
        $this->assertIsArray($stubs, 'reflecting the stubs failed: ' . $out);
        $this->assertSame($actual, $stubs, 'stubs/lambda_cache.stub.php is out of date');
        $this->assertNotEmpty($actual['classes']);
    }
}
