<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Layer;

use LambdaCache\Tests\Support\Php;
use LambdaCache\Tests\Support\TempDir;
use PHPUnit\Framework\TestCase;

/**
 * The Bref layer zip (make layer): its layout, the glibc it needs, and PHP loading it from /opt
 * the way Lambda extracts layers (in a private mount namespace, /opt bound to the unzipped
 * layer).
 */
final class LayerTest extends TestCase
{
    /** Amazon Linux 2023, which Bref 3 layers run on. */
    private const MAX_GLIBC = '2.34';

    private string $root = '';

    protected function setUp(): void
    {
        $zip = (string) getenv('LAMBDA_CACHE_LAYER');
        $this->assertNotSame('', $zip, 'LAMBDA_CACHE_LAYER is not set: run the tests with make test');
        $this->assertFileExists($zip, 'the layer zip is missing: make layer');
        $this->root = TempDir::create('layer');
        [$code, $out] = self::exec(['unzip', '-q', $zip, '-d', $this->root]);
        $this->assertSame(0, $code, $out);
    }

    protected function tearDown(): void
    {
        TempDir::remove($this->root);
    }

    public function testLayoutIsBrefs(): void
    {
        [$code, $out] = self::exec(['find', $this->root, '-type', 'f', '-printf', '%P %m\n']);
        $this->assertSame(0, $code, $out);
        $files = explode("\n", trim($out));
        sort($files);
        $this->assertSame(['bref/etc/php/conf.d/ext-lambda_cache.ini 644', 'bref/extensions/lambda_cache.so 755'], $files);
        $this->assertSame(
            "extension=/opt/bref/extensions/lambda_cache.so\n",
            preg_replace('/^;.*\n/m', '', (string) file_get_contents($this->root . '/bref/etc/php/conf.d/ext-lambda_cache.ini'))
        );
        $size = filesize($this->root . '/bref/extensions/lambda_cache.so');
        $this->assertTrue($size <= 8 * 1024 * 1024, "the stripped .so is {$size} bytes, over 8 MB");
    }

    /** The zip's name says the architecture (-x86_64.zip, -arm64.zip): the .so is built for it. */
    public function testTheSoIsForTheArchitectureInTheZipsName(): void
    {
        $zip = basename((string) getenv('LAMBDA_CACHE_LAYER'));
        $this->assertMatchesRegularExpression('/^lambda-cache-php-\d+-(x86_64|arm64)\.zip$/', $zip);
        $arch = str_ends_with($zip, '-arm64.zip') ? 'arm64' : 'x86_64';
        $head = (string) file_get_contents($this->root . '/bref/extensions/lambda_cache.so', false, null, 0, 64);
        $this->assertSame("\x7fELF", substr($head, 0, 4), 'not an ELF file');
        // ELFCLASS64, little-endian, ET_DYN; e_machine 62 is EM_X86_64, 183 EM_AARCH64.
        $this->assertSame([2, 1], [ord($head[4]), ord($head[5])], '64-bit little-endian');
        $this->assertSame(3, unpack('v', $head, 16)[1], 'a shared object (ET_DYN)');
        $machine = unpack('v', $head, 18)[1];
        $this->assertSame(['x86_64' => 62, 'arm64' => 183][$arch], $machine, "ELF machine {$machine} in a {$arch} layer");
    }

    public function testNeedsNoGlibcNewerThanAmazonLinux2023(): void
    {
        [$code, $out] = self::exec(['objdump', '-T', $this->root . '/bref/extensions/lambda_cache.so']);
        $this->assertSame(0, $code, $out);
        preg_match_all('/GLIBC_([0-9]+(?:\.[0-9]+)+)/', $out, $m);
        $versions = array_unique($m[1]);
        $this->assertNotEmpty($versions, 'no versioned glibc symbols found: is this the right file?');
        usort($versions, 'version_compare');
        $newest = end($versions);
        $this->assertTrue(
            version_compare($newest, self::MAX_GLIBC, '<='),
            "the .so needs GLIBC_{$newest}, newer than Amazon Linux 2023's " . self::MAX_GLIBC
        );
    }

    public function testPhpLoadsItFromOptWithoutWarningsAndAPoolWorks(): void
    {
        $store = TempDir::create('layer-store');
        $autoload = dirname(__DIR__) . '/autoload.php';
        $script = $this->root . '/smoke.php';
        file_put_contents($script, '<?php require ' . var_export($autoload, true) . ';'
            . '$p = new LambdaCache\TmpCachePool(namespace: "layer", directory: ' . var_export($store, true) . ');'
            . '$p->save($p->getItem("k")->set([1, "two"]));'
            . 'echo json_encode([phpversion("lambda_cache"), $p->getItem("k")->get()]);');
        // Lambda extracts layers to /opt: here /opt is the unzipped layer, in a mount
        // namespace of its own, and PHP scans only the layer's conf.d. This PHP again (through
        // qemu for an arm64 one: LAMBDA_CACHE_PHP_CMD).
        $php = Php::shellCommand();
        $inner = 'mount --bind ' . escapeshellarg($this->root) . ' /opt && export PHP_INI_SCAN_DIR=/opt/bref/etc/php/conf.d'
            . " && {$php} -v && {$php} -m && {$php} " . escapeshellarg($script);
        try {
            [$code, $out] = self::exec(['unshare', '--mount', '--propagation', 'private', 'sh', '-c', $inner]);
        } finally {
            TempDir::remove($store);
        }
        $this->assertSame(0, $code, "PHP with the layer at /opt failed (needs root for the mount namespace):\n{$out}");
        $this->assertDoesNotMatchRegularExpression('/Warning|Unable|Fatal|Deprecated/i', $out);
        $this->assertMatchesRegularExpression('/^lambda_cache$/m', $out, 'lambda_cache is not in php -m');
        $this->assertStringEndsWith('[' . json_encode(phpversion('lambda_cache')) . ',[1,"two"]]', trim($out));
    }

    /** @return array{0: int, 1: string} exit code and output (stdout and stderr) */
    private static function exec(array $cmd): array
    {
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]], $pipes);
        if (!is_resource($proc)) {
            return [127, 'cannot start ' . $cmd[0]];
        }
        $out = (string) stream_get_contents($pipes[1]);
        fclose($pipes[1]);

        return [proc_close($proc), $out];
    }
}
