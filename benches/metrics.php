<?php

/*
 * The cost of the per-pool counters (docs/decisions.md 16) on a /tmp getItem() hit of a 200-byte
 * string over 100 keys: a checkout of the commit before them (BASE, with its PHP classes and its
 * release build) against this checkout, side by side: child processes of each, started in
 * turns, 5 rounds of 20,000 hits each (the first dropped as warm-up); ns per call (min, 25th
 * percentile, median) and the counted/base ratios. The counters cannot be switched off in one
 * build, hence two. `make bench BASE=/tmp/base` runs it.
 *
 *   mkdir /tmp/base && git archive 933a06e | tar -x -C /tmp/base && (cd /tmp/base && cargo build --release --locked)
 *   php benches/metrics.php /tmp/base
 */

declare(strict_types=1);

if (($argv[1] ?? '') === '--child') {
    require __DIR__ . '/lib/bootstrap.php';
    \LcBench\bootstrap($argv[3], false);
    $dir = $argv[2];
    $p = new LambdaCache\TmpCachePool(namespace: 'bench', directory: $dir);
    for ($i = 0; $i < 100; $i++) { $p->save($p->getItem("key{$i}")->set(str_repeat('v', 200))); }
    $out = [];
    for ($round = 0; $round < 5; $round++) {
        $t = hrtime(true);
        for ($j = 0; $j < 20000; $j++) { $it = $p->getItem('key' . ($j % 100)); if (!$it->isHit() || strlen($it->get()) !== 200) throw new Exception('x'); }
        $out[] = (hrtime(true) - $t) / 20000;
    }
    echo json_encode(array_slice($out, 1)), "\n";
    exit(0);
}

$roots = ['base' => $argv[1] ?? '', 'counted' => \dirname(__DIR__)];
$so = [];
foreach ($roots as $id => $root) {
    $so[$id] = "{$root}/target/release/liblambda_cache.so";
    if (!is_file($so[$id]) || !is_dir("{$root}/php/src")) {
        fwrite(STDERR, "bench: usage: php benches/metrics.php BASE (a checkout with its release build; {$id}: no {$so[$id]})\n");
        exit(1);
    }
}
$dir = sys_get_temp_dir() . '/lc-metrics-bench-' . getmypid();
$r = [];
for ($turn = 0; $turn < 30; $turn++) {
    foreach ($so as $id => $path) {
        $cmd = [PHP_BINARY, '-d', "extension={$path}", '-d', 'opcache.enable_cli=1', __FILE__, '--child', "{$dir}-{$id}", $roots[$id]];
        $proc = proc_open($cmd, [1 => ['pipe', 'w']], $pipes);
        $json = stream_get_contents($pipes[1]);
        if (proc_close($proc) !== 0 || !is_array($rounds = json_decode((string) $json, true))) {
            fwrite(STDERR, "bench: the {$id} child failed: {$json}\n");
            exit(1);
        }
        $r[$id] = [...($r[$id] ?? []), ...$rounds];
    }
}
$s = [];
foreach ($r as $id => $v) {
    sort($v);
    $n = count($v);
    $s[$id] = [$v[0], $v[intdiv($n, 4)], $v[intdiv($n, 2)]];
    printf("%-8s getItem hit ns/op: min %.0f  p25 %.0f  median %.0f\n", $id, ...$s[$id]);
}
printf("counted/base: min %.3f  p25 %.3f  median %.3f\n", $s['counted'][0] / $s['base'][0], $s['counted'][1] / $s['base'][1], $s['counted'][2] / $s['base'][2]);
foreach ($so as $id => $_) {
    array_map('unlink', glob("{$dir}-{$id}/*") ?: []);
    @rmdir("{$dir}-{$id}");
}
