<?php

declare(strict_types=1);

namespace LcBench;

use Psr\Cache\CacheItemPoolInterface;
use Psr\SimpleCache\CacheInterface;
use Symfony\Component\Cache\Adapter\ApcuAdapter;
use Symfony\Component\Cache\Adapter\FilesystemAdapter;
use Symfony\Component\Cache\Adapter\PhpFilesAdapter;

/** One cache implementation under test: how to build its PSR-6 pool and its PSR-16 cache. */
final class Impl
{
    public const NAMESPACE = 'bench';

    /**
     * @param \Closure(string): CacheItemPoolInterface       $pool  builds a pool over a fresh directory
     * @param \Closure(CacheItemPoolInterface): CacheInterface $psr16
     * @param ?\Closure(): void                               $reset empties a shared backend (APCu)
     */
    public function __construct(
        public readonly string $id,
        public readonly string $label,
        public readonly bool $ours,
        private readonly \Closure $pool,
        private readonly \Closure $psr16,
        private readonly ?\Closure $reset = null,
        public readonly ?string $unavailable = null,
    ) {
    }

    /** $maxBytes: ours' budget (null: the default); the peers have none. */
    public function pool(string $dir, ?int $maxBytes = null): CacheItemPoolInterface
    {
        return ($this->pool)($dir, $maxBytes);
    }

    public function psr16(CacheItemPoolInterface $pool): CacheInterface
    {
        return ($this->psr16)($pool);
    }

    public function reset(): void
    {
        if ($this->reset !== null) {
            ($this->reset)();
        }
    }

    public function hasSharedBackend(): bool
    {
        return $this->reset !== null;
    }
}

/** @return list<Impl> ours first, then the peers */
function implementations(): array
{
    $symfony16 = static fn (CacheItemPoolInterface $pool): CacheInterface => new \Symfony\Component\Cache\Psr16Cache($pool);
    $apcuOk = \function_exists('apcu_enabled') && apcu_enabled();

    return [
        new Impl(
            'ours',
            'LambdaCache TmpCachePool',
            true,
            static fn (string $dir, ?int $max) => new \LambdaCache\TmpCachePool(namespace: Impl::NAMESPACE, directory: $dir,
                maxBytes: $max ?? \LambdaCache\TmpCachePool::DEFAULT_MAX_BYTES),
            static fn (CacheItemPoolInterface $pool): CacheInterface => new \LambdaCache\Psr16Cache($pool),
        ),
        new Impl(
            'ours-mac',
            'LambdaCache + integrityKey',
            true,
            static fn (string $dir) => new \LambdaCache\TmpCachePool(namespace: Impl::NAMESPACE, directory: $dir, integrityKey: 'bench-integrity-key-0123456789abcdef'),
            static fn (CacheItemPoolInterface $pool): CacheInterface => new \LambdaCache\Psr16Cache($pool),
        ),
        new Impl(
            'filesystem',
            'symfony FilesystemAdapter',
            false,
            static fn (string $dir) => new FilesystemAdapter(Impl::NAMESPACE, 0, $dir),
            $symfony16,
        ),
        new Impl(
            'phpfiles',
            'symfony PhpFilesAdapter',
            false,
            static fn (string $dir) => new PhpFilesAdapter(Impl::NAMESPACE, 0, $dir),
            $symfony16,
        ),
        new Impl(
            'apcu',
            'symfony ApcuAdapter',
            false,
            static fn (string $dir) => new ApcuAdapter(Impl::NAMESPACE),
            $symfony16,
            static function (): void { apcu_clear_cache(); },
            $apcuOk ? null : 'APCu is not enabled in the CLI (run with -d apc.enable_cli=1)',
        ),
    ];
}

/** Facts about this run that change the numbers; printed in the header and stored in the JSON. */
function environment(string $tmpBase): array
{
    $opcache = \function_exists('opcache_get_status') ? (opcache_get_status(false) ?: []) : [];
    $igbinary = \extension_loaded('igbinary') && version_compare('3.1.6', (string) phpversion('igbinary'), '<=');
    $symfonyFile = (new \ReflectionClass(FilesystemAdapter::class))->getFileName();

    return [
        'php' => \PHP_VERSION . (\PHP_ZTS ? ' ZTS' : ' NTS'),
        'lambda_cache' => phpversion('lambda_cache') ?: (\extension_loaded('lambda_cache') ? 'loaded' : 'unknown'),
        'opcache_enabled' => (bool) ($opcache['opcache_enabled'] ?? false),
        'opcache_file_cache_only' => (bool) ($opcache['file_cache_only'] ?? false),
        'apcu' => \function_exists('apcu_enabled') && apcu_enabled() ? (string) phpversion('apcu') : 'disabled',
        'apc_serializer' => (string) \ini_get('apc.serializer'),
        'apc_shm_size' => (string) \ini_get('apc.shm_size'),
        'igbinary' => \extension_loaded('igbinary') ? (string) phpversion('igbinary') : 'not loaded',
        'symfony_marshaller' => $igbinary ? 'igbinary (DefaultMarshaller default)' : 'serialize (DefaultMarshaller default)',
        'symfony_cache' => \dirname($symfonyFile, 2),
        'tmp_dir' => $tmpBase,
        'cpus' => (int) (@shell_exec('nproc 2>/dev/null') ?: 0),
        'loadavg' => implode(' ', array_map(static fn ($l) => sprintf('%.2f', $l), sys_getloadavg() ?: [])),
    ];
}
