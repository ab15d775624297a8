<?php

/*
 * The cost of integrityKey on a /tmp hit (docs/decisions.md 12): TmpCachePool without and with a
 * key, getItem() hit (a) and PSR-16 get() hit (e) of a 200-byte string over 100 keys (repeat reads,
 * which the store remembers as verified), and getItem() hits over 20,000 keys (a20k: more than the
 * 1 MiB a store remembers, so every read computes the MAC); 41 rounds of 20,000 calls interleaved;
 * ns per call (min, 25th percentile, median) and the keyed/plain ratios.
 *
 *   php -d extension=target/release/liblambda_cache.so -d opcache.enable_cli=1 benches/integrity.php
 */

declare(strict_types=1);

require __DIR__ . '/lib/bootstrap.php';
\LcBench\bootstrap(\dirname(__DIR__), false);
$pools = [];
foreach (['plain' => '', 'keyed' => 'bench-integrity-key-0123456789abcdef'] as $id => $k) {
    $dir = sys_get_temp_dir() . "/lc-mac-$id-" . getmypid();
    $p = new LambdaCache\TmpCachePool(namespace: 'bench', directory: $dir, integrityKey: $k);
    for ($i = 0; $i < 20000; $i++) { $p->save($p->getItem("key{$i}")->set(str_repeat('v', 200))); }
    $pools[$id] = [$p, $dir, new LambdaCache\Psr16Cache($p)];
}
$r = [];
for ($round = 0; $round < 41; $round++) {
    foreach ($pools as $id => [$p, , $c]) {
        $t = hrtime(true);
        for ($j = 0; $j < 20000; $j++) { $it = $p->getItem('key' . ($j % 100)); if (!$it->isHit() || strlen($it->get()) !== 200) throw new Exception('x'); }
        $r["a $id"][] = (hrtime(true) - $t) / 20000;
        $t = hrtime(true);
        for ($j = 0; $j < 20000; $j++) { if (strlen($c->get('key' . ($j % 100))) !== 200) throw new Exception('x'); }
        $r["e $id"][] = (hrtime(true) - $t) / 20000;
        $t = hrtime(true);
        for ($j = 0; $j < 20000; $j++) { $it = $p->getItem('key' . (($j * 7919) % 20000)); if (!$it->isHit() || strlen($it->get()) !== 200) throw new Exception('x'); }
        $r["a20k $id"][] = (hrtime(true) - $t) / 20000;
    }
}
$s = [];
foreach ($r as $id => $v) { sort($v); $s[$id] = [$v[0], $v[10], $v[20]]; printf("%-8s ns/op: min %.0f  p25 %.0f  median %.0f\n", $id, ...$s[$id]); }
foreach (['a', 'e', 'a20k'] as $w) { printf("%s keyed/plain: min %.3f  p25 %.3f  median %.3f\n", $w, $s["$w keyed"][0] / $s["$w plain"][0], $s["$w keyed"][1] / $s["$w plain"][1], $s["$w keyed"][2] / $s["$w plain"][2]); }
$dirs = array_column($pools, 1);
$pools = $p = $c = null;
gc_collect_cycles();
foreach ($dirs as $dir) {
    array_map('unlink', glob("{$dir}/*") ?: []);
    rmdir($dir);
}
