<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Metrics;

/**
 * Reading and checking CloudWatch Embedded Metric Format lines: a JSON object per line, with
 * `_aws: {Timestamp, CloudWatchMetrics: [{Namespace, Dimensions, Metrics: [{Name, Unit}]}]}`, a
 * value for every metric declared and every dimension.
 */
trait EmfChecks
{
    /** @return list<array<string, mixed>> the stderr lines that are EMF documents */
    private static function emfLines(string $stderr): array
    {
        $out = [];
        foreach (explode("\n", $stderr) as $line) {
            if (str_starts_with($line, '{') && str_contains($line, '"_aws"')) {
                $out[] = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
            }
        }
        return $out;
    }

    /** @param array<string, mixed> $line */
    private static function assertEmf(array $line, string $namespace, string $store, string $poolNamespace): void
    {
        // The units CloudWatch accepts (MetricDatum.Unit).
        $units = ['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes',
            'Terabytes', 'Bits', 'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count',
            'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second',
            'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second',
            'Count/Second', 'None'];
        $aws = $line['_aws'];
        self::assertIsInt($aws['Timestamp']);
        self::assertEqualsWithDelta(time() * 1000, $aws['Timestamp'], 3_600_000, 'milliseconds since the epoch');
        self::assertCount(1, $aws['CloudWatchMetrics']);
        $directive = $aws['CloudWatchMetrics'][0];
        self::assertEqualsCanonicalizing(['Namespace', 'Dimensions', 'Metrics'], array_keys($directive));
        self::assertSame($namespace, $directive['Namespace']);
        self::assertSame([['Store', 'Namespace']], $directive['Dimensions']);
        self::assertSame([$store, $poolNamespace], [$line['Store'], $line['Namespace']]);
        self::assertNotEmpty($directive['Metrics']);
        self::assertLessThanOrEqual(100, count($directive['Metrics']));
        $names = [];
        foreach ($directive['Metrics'] as $m) {
            self::assertEqualsCanonicalizing(['Name', 'Unit'], array_keys($m));
            self::assertContains($m['Unit'], $units);
            self::assertArrayHasKey($m['Name'], $line, "a value for {$m['Name']}");
            self::assertTrue(is_int($line[$m['Name']]) || is_float($line[$m['Name']]), $m['Name']);
            $names[] = $m['Name'];
        }
        self::assertSame(count($names), count(array_unique($names)));
        foreach (['Hits', 'Misses', 'Writes', 'Deletes', 'Errors', 'BytesRead', 'BytesWritten'] as $n) {
            self::assertContains($n, $names);
        }
    }
}
