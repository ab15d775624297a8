<?php

// The main job on the embedded default: a PSR-6 pool and a PSR-16 cache on the /tmp store.
// Run it twice: the second run finds what the first one stored.

declare(strict_types=1);

require __DIR__ . '/autoload.php';

use LambdaCache\Psr16Cache;
use LambdaCache\TmpCachePool;

function build_menu(): array
{
    usleep(50_000); // something slow: a query, an API call, a template
    return ['home' => '/', 'docs' => '/docs', 'prices' => [9.99, 19.99, -0.0], 'beta' => false];
}

$dir = getenv('LAMBDA_CACHE_DIR') ?: sys_get_temp_dir() . '/lambda-cache';
$pool = new TmpCachePool(namespace: 'demo', defaultLifetime: 3600, directory: $dir);
printf("lambda_cache %s, store in %s\n", lambda_cache_version(), $dir);

$t = microtime(true);
$item = $pool->getItem('menu');
if ($item->isHit()) {
    printf("menu: hit, read in %.1f us\n", (microtime(true) - $t) * 1e6);
} else {
    $pool->save($item->set(build_menu())->expiresAfter(300));
    printf("menu: miss, built and saved in %.1f ms (expires in 300 s)\n", (microtime(true) - $t) * 1e3);
}
$menu = $pool->getItem('menu')->get();
printf("menu round trip exact: %s\n", var_export($menu === build_menu(), true));

$cache = new Psr16Cache($pool);
$runs = (int) $cache->get('runs', 0) + 1;
$cache->set('runs', $runs);
printf("runs of this demo on this directory: %d\n", $runs);

$t = microtime(true);
$n = 100_000;
for ($i = 0; $i < $n; $i++) {
    $pool->getItem('menu');
}
printf("%d getItem() hits: %.0f ops/s\n", $n, $n / (microtime(true) - $t));

$values = [];
for ($i = 0; $i < 100; $i++) {
    $values["user.$i"] = ['id' => $i, 'name' => "user $i"];
}
$cache->setMultiple($values, 60);
$t = microtime(true);
$got = $cache->getMultiple(array_keys($values));
printf("getMultiple(100): %d hits in %.1f us\n", count(array_filter($got)), (microtime(true) - $t) * 1e6);

$stats = $pool->stats();
printf("store: %d entries, %.1f KiB used of a %.0f MiB budget\n", $stats['entries'], $stats['bytes_used'] / 1024, $stats['max_bytes'] / 1048576);
