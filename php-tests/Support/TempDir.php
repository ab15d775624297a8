<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/**
 * Fresh, never reused temporary directories (a store may keep an environment open per path for
 * the life of the process, so a path must not come back with other files behind it).
 */
final class TempDir
{
    public static function create(string $prefix = 'lc-test'): string
    {
        $base = sys_get_temp_dir() . '/lambda-cache-tests';
        if (!is_dir($base)) {
            @mkdir($base, 0777, true);
        }
        do {
            $dir = sprintf('%s/%s-%d-%s', $base, $prefix, getmypid(), bin2hex(random_bytes(8)));
        } while (file_exists($dir));
        if (!mkdir($dir, 0700) && !is_dir($dir)) {
            throw new \RuntimeException("cannot create {$dir}");
        }
        return $dir;
    }

    public static function remove(string $dir): void
    {
        if ($dir === '' || !file_exists($dir)) {
            return;
        }
        if (is_link($dir) || !is_dir($dir)) {
            @unlink($dir);
            return;
        }
        @chmod($dir, 0700);
        foreach (scandir($dir) ?: [] as $entry) {
            if ($entry !== '.' && $entry !== '..') {
                self::remove($dir . '/' . $entry);
            }
        }
        @rmdir($dir);
    }

    /** Entries of a directory, without '.' and '..', sorted. */
    public static function entries(string $dir): array
    {
        $entries = array_values(array_diff(scandir($dir) ?: [], ['.', '..']));
        sort($entries);
        return $entries;
    }
}
