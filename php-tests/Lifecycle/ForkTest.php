<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Lifecycle;

use LambdaCache\Tests\Support\Php;
use PHPUnit\Framework\TestCase;

/**
 * pcntl_fork() after both stores were used (docs/platform.md §1): the runtime, the DynamoDB client and
 * the LMDB environment exist in the parent. Parent and child keep working side by side, in
 * lockstep rounds: each writes its own keys, then reads the other's. The child builds a runtime
 * and a client of its own (the pid changed); neither process hangs or crashes.
 */
final class ForkTest extends TestCase
{
    use LifecycleFixture;

    private const ROUNDS = 6;

    private const FORK = <<<'PHP'
        if (!function_exists('pcntl_fork')) {
            echo json_encode(['skip' => 'pcntl is not built into this PHP']), "\n";
            exit(0);
        }
        $endpoint = getenv('LAMBDA_CACHE_DYNAMODB_ENDPOINT');
        $pools = fn (): array => [
            'tmp' => new LambdaCache\TmpCachePool(namespace: 'fork', directory: $dir),
            'dynamo' => new LambdaCache\DynamoDbCachePool(table: $table, endpoint: $endpoint, namespace: 'fork'),
        ];
        $inherited = $pools();
        $problems = [];
        foreach ($inherited as $name => $pool) {
            $pool->save($pool->getItem('before')->set(['from' => 'parent', 'pid' => getmypid()]));
            if (($pool->getItem('before')->get()['from'] ?? null) !== 'parent') {
                $problems[] = "{$name}: no value before the fork";
            }
        }
        $before = array_intersect_key($inherited['dynamo']->stats(), ['runtimes_created' => 0, 'clients_created' => 0]);

        $pair = stream_socket_pair(STREAM_PF_UNIX, STREAM_SOCK_STREAM, STREAM_IPPROTO_IP);
        $deadline = microtime(true) + $seconds;
        // Waits for one line from the other process, bounded by the deadline (lines are buffered:
        // one read may bring two).
        $buffer = '';
        $receive = static function ($socket) use ($deadline, &$buffer): ?string {
            while (($end = strpos($buffer, "\n")) === false) {
                $r = [$socket]; $w = $e = null;
                $left = $deadline - microtime(true);
                if ($left <= 0 || stream_select($r, $w, $e, (int) $left, 100000) === false) {
                    return null;
                }
                if ($r !== []) {
                    $chunk = fread($socket, 65536);
                    if ($chunk === '' || $chunk === false) {
                        return null;
                    }
                    $buffer .= $chunk;
                }
            }
            $line = substr($buffer, 0, $end);
            $buffer = substr($buffer, $end + 1);
            return $line;
        };

        $pid = pcntl_fork();
        if ($pid < 0) {
            fwrite(STDERR, "fork failed\n");
            exit(3);
        }
        $role = $pid === 0 ? 'child' : 'parent';
        $other = $pid === 0 ? 'parent' : 'child';
        $socket = $pid === 0 ? $pair[1] : $pair[0];
        fclose($pid === 0 ? $pair[0] : $pair[1]);
        $fresh = $pools();
        for ($round = 1; $round <= $rounds; $round++) {
            // Odd rounds on the inherited pool objects, even rounds on objects made after the fork.
            $use = $round % 2 === 1 ? $inherited : $fresh;
            foreach ($use as $name => $pool) {
                $value = ['role' => $role, 'round' => $round, 'pid' => getmypid(), 'blob' => str_repeat($role, 50 * $round)];
                $ok = $pool->save($pool->getItem("{$role}-{$round}")->set($value))
                    && $pool->getItem("{$role}-{$round}")->get() === $value
                    && (new LambdaCache\Psr16Cache($pool))->setMultiple(["{$role}-m{$round}a" => $round, "{$role}-m{$round}b" => $role]);
                if (!$ok) {
                    $problems[] = "{$role} round {$round} {$name}: own write/read failed";
                }
            }
            fwrite($socket, "wrote {$round}\n");
            if ($receive($socket) !== "wrote {$round}") {
                $problems[] = "{$role} round {$round}: no word from the {$other}";
                break;
            }
            foreach ($use as $name => $pool) {
                $theirs = $pool->getItem("{$other}-{$round}")->get();
                if (($theirs['role'] ?? null) !== $other || $theirs['round'] !== $round || $theirs['blob'] !== str_repeat($other, 50 * $round)) {
                    $problems[] = "{$role} round {$round} {$name}: the {$other}'s key reads " . json_encode($theirs);
                }
                $many = (new LambdaCache\Psr16Cache($pool))->getMultiple(["{$other}-m{$round}a", "{$other}-m{$round}b", 'before']);
                $many = is_array($many) ? $many : iterator_to_array($many);
                if ([$many["{$other}-m{$round}a"], $many["{$other}-m{$round}b"], $many['before']['from'] ?? null] !== [$round, $other, 'parent']) {
                    $problems[] = "{$role} round {$round} {$name}: getMultiple of the {$other}'s keys reads " . json_encode($many);
                }
            }
        }
        $report = ['role' => $role, 'pid' => getmypid(), 'problems' => $problems, 'before fork' => $before,
            'after' => array_intersect_key($fresh['dynamo']->stats(), ['runtimes_created' => 0, 'clients_created' => 0]), 'inherited after' => array_intersect_key($inherited['dynamo']->stats(), ['runtimes_created' => 0, 'clients_created' => 0])];
        if ($pid === 0) {
            fwrite($socket, json_encode($report) . "\n");
            exit(0);
        }
        $childReport = json_decode((string) $receive($socket), true);
        $status = null;
        while (($waited = pcntl_waitpid($pid, $status, WNOHANG)) === 0 && microtime(true) < $deadline) {
            usleep(10000);
        }
        if ($waited === 0) {
            // The child runs with -n: posix may be missing.
            function_exists('posix_kill') ? posix_kill($pid, SIGKILL) : exec('kill -9 ' . (int) $pid);
            pcntl_waitpid($pid, $status);
            $report['problems'][] = 'the child did not end before the deadline';
        }
        $report['child exit'] = pcntl_wifexited($status) ? pcntl_wexitstatus($status) : null;
        $report['child signal'] = pcntl_wifsignaled($status) ? pcntl_wtermsig($status) : null;
        $report['child'] = $childReport;
        // The parent goes on after the child ended.
        foreach ($pools() as $name => $pool) {
            if (!$pool->save($pool->getItem('after-child')->set($rounds)) || ($pool->getItem("child-{$rounds}")->get()["role"] ?? null) !== "child") {
                $report['problems'][] = "parent {$name}: broken after the child ended";
            }
        }
        echo json_encode($report), "\n";
        PHP;

    public function testParentAndChildBothKeepWorkingAfterAFork(): void
    {
        if (!function_exists('pcntl_fork')) {
            $this->markTestSkipped('pcntl is needed');
        }
        $vars = $this->childVars(['rounds' => self::ROUNDS, 'seconds' => 30.0]);
        $r = Php::run(self::FORK, $vars, [], 60.0);
        $this->assertCleanExit($r, 'the forking process');
        $parent = $this->lastJsonLine($r);
        if (isset($parent['skip'])) {
            $this->markTestSkipped($parent['skip']);
        }
        $what = $r->describe();

        $this->assertSame(0, $parent['child exit'], "child exit status\n{$what}");
        $this->assertNull($parent['child signal'], "child killed by a signal\n{$what}");
        $child = $parent['child'];
        $this->assertTrue(is_array($child), "no report from the child\n{$what}");
        $this->assertSame('child', $child['role']);
        $this->assertNotSame($parent['pid'], $child['pid']);
        $this->assertSame([], $parent['problems'], "the parent's problems\n{$what}");
        $this->assertSame([], $child['problems'], "the child's problems\n{$what}");

        $one = ['runtimes_created' => 1, 'clients_created' => 1];
        $this->assertSame($one, $parent['before fork'], 'made once, before the fork');
        $this->assertSame($one, $parent['after'], 'the parent keeps its runtime and client');
        $this->assertSame($one, $parent['inherited after']);
        $this->assertSame($one, $child['before fork'], 'the child inherits the counters');
        $this->assertSame(
            ['runtimes_created' => 2, 'clients_created' => 2],
            $child['after'],
            'the child made a runtime and a client of its own (one more each), once'
        );
        $this->assertSame($child['after'], $child['inherited after']);

        foreach (['tmp' => $this->tmpPool('fork'), 'dynamo' => $this->dynamoPool('fork')] as $name => $pool) {
            $this->assertSame(self::ROUNDS, $pool->getItem('after-child')->get(), $name);
            foreach (['parent', 'child'] as $role) {
                for ($round = 1; $round <= self::ROUNDS; $round++) {
                    $value = $pool->getItem("{$role}-{$round}")->get();
                    $this->assertSame([$role, $round], [$value['role'] ?? null, $value['round'] ?? null], "{$name} {$role}-{$round}");
                }
            }
        }
    }
}
