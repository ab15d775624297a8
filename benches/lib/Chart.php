<?php

declare(strict_types=1);

namespace LcBench;

/**
 * The ours/peer ratios of one run as an SVG bar chart (make bench writes docs/bench.svg): one row
 * per workload, one bar per peer, on a log scale with 1x (as fast as the peer) marked.
 *
 * @param array<string, string>                    $titles  workload id => title
 * @param array<string, array<string, ?float>>     $ratios  workload id => [peer label => ours/peer]
 */
function ratioChart(string $title, array $titles, array $ratios): string
{
    $colors = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2'];
    $peers = [];
    foreach ($ratios as $row) {
        foreach (array_keys($row) as $peer) {
            $peers[$peer] ??= $colors[\count($peers) % \count($colors)];
        }
    }
    [$left, $plot, $bar, $gap] = [330, 520, 11, 10];
    $min = 0.1;
    $max = 1000.0;
    foreach ($ratios as $row) {
        foreach ($row as $r) {
            $max = $r !== null ? max($max, $r * 1.5) : $max;
            $min = $r !== null && $r > 0 ? min($min, $r / 1.5) : $min;
        }
    }
    $x = static fn (float $r): float => $left + $plot * (log10($r) - log10($min)) / (log10($max) - log10($min));
    $e = static fn (string $s): string => htmlspecialchars($s, \ENT_XML1 | \ENT_QUOTES);
    $body = '';
    $y = 50;
    foreach ($ratios as $id => $row) {
        $height = max(1, \count($row)) * $bar;
        $body .= sprintf('<text x="%d" y="%.1f" text-anchor="end">%s. %s</text>', $left - 6, $y + $height / 2 + 4, $id,
            $e(mb_strimwidth($titles[$id] ?? '', 0, 46, '…')));
        foreach ($row as $peer => $r) {
            if ($r !== null && $r > 0) {
                $body .= sprintf('<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/><text x="%.1f" y="%d" font-size="9">%s</text>',
                    min($x(1.0), $x($r)), $y, abs($x($r) - $x(1.0)), $bar - 1, $peers[$peer], max($x(1.0), $x($r)) + 3, $y + $bar - 2,
                    $r >= 10 ? sprintf('%.0fx', $r) : sprintf('%.2fx', $r));
            }
            $y += $bar;
        }
        $y += $gap;
    }
    $axis = '';
    for ($p = (int) ceil(log10($min)); $p <= (int) floor(log10($max)); ++$p) {
        $axis .= sprintf('<line x1="%.1f" y1="40" x2="%.1f" y2="%d" stroke="%s"/><text x="%.1f" y="%d" text-anchor="middle">%sx</text>',
            $x(10 ** $p), $x(10 ** $p), $y, $p === 0 ? '#000' : '#ddd', $x(10 ** $p), $y + 14, $p < 0 ? rtrim(sprintf('%.3f', 10 ** $p), '0') : 10 ** $p);
    }
    $legend = '';
    $lx = $left;
    foreach ($peers as $peer => $color) {
        $legend .= sprintf('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>', $lx, $y + 24, $color, $lx + 14, $y + 33, $e($peer));
        $lx += 14 + 7 * mb_strlen($peer) + 20;
    }
    $width = $left + $plot + 60;

    return sprintf('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
        . '<rect width="100%%" height="100%%" fill="#fff"/><text x="10" y="22" font-size="14" font-weight="bold">%s</text>'
        . '%s%s%s</svg>' . "\n", $width, $y + 45, $e($title), $axis, $body, $legend);
}
