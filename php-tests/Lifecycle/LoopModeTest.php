<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Lifecycle;

use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * Bref's function runtime with BREF_LOOP_MAX > 1 (docs/platform.md §1): one PHP process serves many
 * invocations, and the handler builds fresh pool objects each time, as a framework's container
 * would. The runtime and the DynamoDB client are made once for the whole process, and every
 * invocation sees the previous one's writes in both stores.
 */
final class LoopModeTest extends TestCase
{
    use LifecycleFixture;

    private const INVOCATIONS = 200;

    private const LOOP = <<<'PHP'
        /** One invocation; returns its problems (empty when all went well). */
        function handle(int $i, string $dir, string $table): array
        {
            $pools = [
                'tmp' => new LambdaCache\TmpCachePool(namespace: 'loop', directory: $dir),
                'dynamo' => new LambdaCache\DynamoDbCachePool(table: $table, endpoint: getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT'), namespace: 'loop'),
            ];
            $problems = [];
            foreach ($pools as $name => $pool) {
                $counter = $pool->getItem('counter');
                $seen = $counter->isHit() ? $counter->get() : 0;
                if ($seen !== $i - 1) {
                    $problems[] = "{$name}: counter " . var_export($seen, true) . ', expected ' . ($i - 1);
                }
                $keys = ['last', 'inv-' . ($i - 1), 'inv-' . ($i - 2)];
                $items = iterator_to_array($pool->getItems($keys));
                $written = static fn (int $n): ?array => $n >= 1 ? ['i' => $n, 'list' => range(1, $n)] : null;
                $expected = [$i > 1 ? $i - 1 : null, $written($i - 1), $written($i - 2)];
                $got = array_map(static fn ($item) => $item->get(), array_values($items));
                if (array_keys($items) !== $keys || $got !== $expected) {
                    $problems[] = "{$name}: getItems " . json_encode($got) . ', expected ' . json_encode($expected);
                }
                $pool->saveDeferred($pool->getItem('inv-' . $i)->set($written($i)));
                $pool->saveDeferred($pool->getItem('last')->set($i));
                if (!$pool->commit() || !$pool->save($counter->set($i))) {
                    $problems[] = "{$name}: a write failed";
                }
                $cache = new LambdaCache\Psr16Cache($pool);
                if ($cache->get('counter') !== $i) {
                    $problems[] = "{$name}: PSR-16 reads " . var_export($cache->get('counter'), true) . " after saving {$i}";
                }
            }
            return $problems;
        }

        $problems = [];
        $stats = [];
        $memory = [];
        for ($i = 1; $i <= $invocations; $i++) {
            foreach (handle($i, $dir, $table) as $problem) {
                $problems[] = "invocation {$i}: {$problem}";
            }
            gc_collect_cycles();
            $probe = new LambdaCache\DynamoDbCachePool(table: $table, endpoint: getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT'));
            $stats[$i] = array_intersect_key($probe->stats(), ['runtimes_created' => 0, 'clients_created' => 0]);
            $memory[$i] = memory_get_usage();
        }
        echo json_encode(['pid' => getmypid(), 'problems' => array_slice($problems, 0, 20), 'problem count' => count($problems),
            'stats' => $stats, 'memory' => $memory]), "\n";
        PHP;

    public function testOneProcessServesManyInvocationsWithOneRuntimeAndOneClient(): void
    {
        $started = microtime(true);
        $r = Php::run(self::LOOP, $this->childVars(['invocations' => self::INVOCATIONS]), [], 120.0);
        $elapsed = microtime(true) - $started;
        $this->assertCleanExit($r, 'the loop process');
        $out = $this->lastJsonLine($r);

        $this->assertSame([], $out['problems'], "{$out['problem count']} problems");
        $this->assertCount(self::INVOCATIONS, $out['stats']);
        foreach ($out['stats'] as $i => $stats) {
            $this->assertSame(
                ['runtimes_created' => 1, 'clients_created' => 1],
                $stats,
                "stats after invocation {$i}: the runtime and the client are made once per process"
            );
        }
        // Fresh pool objects per invocation must not pile up in PHP memory (loose bound).
        $growth = $out['memory'][self::INVOCATIONS] - $out['memory'][20];
        $this->assertLessThan(2 * 1024 * 1024, $growth, "PHP memory grew by {$growth} bytes from invocation 20 to " . self::INVOCATIONS);
        $this->assertLessThan(90.0, $elapsed, sprintf('%d invocations took %.1f s', self::INVOCATIONS, $elapsed));

        foreach (['tmp' => $this->tmpPool('loop'), 'dynamo' => $this->dynamoPool('loop')] as $name => $pool) {
            $this->assertSame(self::INVOCATIONS, $pool->getItem('counter')->get(), "{$name} counter seen from another process");
            $this->assertSame(self::INVOCATIONS, $pool->getItem('last')->get(), $name);
            $this->assertSame(['i' => 1, 'list' => [1]], $pool->getItem('inv-1')->get(), $name);
        }
    }
}
