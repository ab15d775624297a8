<?php

declare(strict_types=1);

namespace LambdaCache\Cli;

use LambdaCache\AbstractPool;
use LambdaCache\DynamoDbCachePool;
use LambdaCache\InvalidArgumentException;
use LambdaCache\TmpCachePool;

/**
 * The `lambda-cache` command (bin/lambda-cache): stats, get, delete, clear and create-table on a
 * /tmp or a DynamoDB pool. Results go to stdout (one JSON document with --json), progress and
 * errors to stderr, one line each; the exit status says what happened (ExitCode).
 */
final class Application
{
    /** A /tmp clear() of a directory holding at least this many entries says so first. */
    public const CLEAR_PROGRESS_ENTRIES = 10000;
    /** How long create-table waits for the table to become ACTIVE. */
    private const ACTIVE_TIMEOUT_SECONDS = 300.0;
    /** create-table says it is still waiting every this many seconds. */
    private const PROGRESS_EVERY_SECONDS = 2.0;

    private Options $options;
    private bool $json = false;

    /**
     * @param resource $stdout
     * @param resource $stderr
     */
    private function __construct(private $stdout, private $stderr)
    {
    }

    /**
     * Runs the command line $argv (without the script name); returns the exit status.
     *
     * @param list<string> $argv
     * @param resource|null $stdout
     * @param resource|null $stderr
     */
    public static function main(array $argv, $stdout = null, $stderr = null): int
    {
        $app = new self($stdout ?? \STDOUT, $stderr ?? \STDERR);
        $app->json = Options::wantsJson($argv);
        \set_error_handler(static function (int $no, string $message, string $file = '', int $line = 0): bool {
            throw new \ErrorException($message, 0, $no, $file, $line);
        });
        try {
            return $app->run($argv);
        } catch (\Throwable $e) {
            return $app->fail($e);
        } finally {
            \restore_error_handler();
        }
    }

    public static function help(): string
    {
        $commands = \implode(', ', Options::COMMANDS);

        return <<<HELP
            Usage: lambda-cache COMMAND [ARGUMENT] [FLAGS]

            Looks at and manages a LambdaCache pool: the /tmp store or a DynamoDB table.

            Commands ({$commands}):
              stats          /tmp: entries (all namespaces), bytes used, budget, evictions;
                             DynamoDB: the table's status, estimated items and bytes, billing mode
              get KEY        prints the value: a string as it is, other values var_export()ed
              delete KEY     deletes the key
              clear          deletes every key of the namespace
              create-table   DynamoDB: creates the table (string key, PAY_PER_REQUEST) unless it
                             exists, waits until it is ACTIVE and enables TTL

            Flags:
              --store=tmp|dynamodb   default: dynamodb with --table, --region, --endpoint or for
                                     create-table, else tmp
              --namespace=NS         the pool's namespace (default: the pool's, '')
              --directory=DIR        /tmp store directory (default: the pool's, sys_get_temp_dir()/lambda-cache)
              --max-bytes=N          /tmp store size budget in bytes (default: the pool's, 128 MiB)
              --table=NAME           DynamoDB table (default: env DYNAMO_DB_TABLE)
              --region=REGION        default: env AWS_REGION, AWS_DEFAULT_REGION
              --endpoint=URL         default: env AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL
              --allowed-classes=LIST classes a value read by get may contain: none, all or
                                     Class1,Class2 (default: the pool's)
              --json                 one JSON document on stdout, also for errors
              --quiet                no progress lines on stderr
              -h, --help             this help
            Credentials: env AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.

            Exit status:
              0  done
              1  get: the key has no value
              2  usage error: a bad command, flag, value, key or namespace
              3  store error: the extension is not loaded, /tmp cannot be used, DynamoDB failed
                 or did not answer, a value cannot be read back (e.g. a class not allowed)
              4  DynamoDB: the table does not exist (ResourceNotFoundException)
              5  DynamoDB: access denied or credentials refused (AccessDeniedException, ...)

            HELP;
    }

    /** @param list<string> $argv */
    private function run(array $argv): int
    {
        $this->options = $o = Options::parse($argv);
        if ($o->has('help')) {
            \fwrite($this->stdout, self::help());

            return ExitCode::OK;
        }
        if ($o->command === null) {
            throw new UsageException('no command given');
        }
        if (!\in_array($o->command, Options::COMMANDS, true)) {
            throw new UsageException(\sprintf("unknown command '%s' (commands: %s)", $o->command, \implode(', ', Options::COMMANDS)));
        }
        $wanted = \in_array($o->command, ['get', 'delete'], true) ? 1 : 0;
        if (\count($o->arguments) < $wanted) {
            throw new UsageException(\sprintf('%s needs a KEY', $o->command));
        }
        if (\count($o->arguments) > $wanted) {
            throw new UsageException(\sprintf("too many arguments for %s: '%s'", $o->command, $o->arguments[$wanted]));
        }
        $store = $o->store();
        if ($o->command === 'create-table' && $store !== 'dynamodb') {
            throw new UsageException('create-table is for --store=dynamodb');
        }
        $pool = $store === 'tmp' ? $this->tmpPool() : $this->dynamoPool();

        return match ($o->command) {
            'stats' => $this->stats($pool),
            'get' => $this->get($pool, $o->arguments[0]),
            'delete' => $this->delete($pool, $o->arguments[0]),
            'clear' => $this->clear($pool),
            'create-table' => $this->createTable($pool),
        };
    }

    private function tmpPool(): TmpCachePool
    {
        $o = $this->options;
        $args = ['strict' => true];
        foreach (['namespace' => $o->value('namespace'), 'directory' => $o->value('directory'), 'maxBytes' => $o->maxBytes(), 'allowedClasses' => $o->allowedClasses()] as $name => $value) {
            if ($value !== null) {
                $args[$name] = $value;
            }
        }

        return new TmpCachePool(...$args);
    }

    private function dynamoPool(): DynamoDbCachePool
    {
        $o = $this->options;
        $args = ['strict' => true];
        foreach (['table', 'namespace', 'region', 'endpoint'] as $name) {
            if ($o->value($name) !== null) {
                $args[$name] = $o->value($name);
            }
        }
        if ($o->allowedClasses() !== null) {
            $args['allowedClasses'] = $o->allowedClasses();
        }

        return new DynamoDbCachePool(...$args);
    }

    /** Where the command works, for its output. */
    private function place(AbstractPool $pool): array
    {
        $o = $this->options;
        if ($pool instanceof DynamoDbCachePool) {
            $table = $o->value('table') ?? \getenv('DYNAMO_DB_TABLE');

            return ['store' => 'dynamodb', 'table' => \is_string($table) ? $table : null, 'namespace' => $o->value('namespace') ?? ''];
        }

        return ['store' => 'tmp', 'directory' => $o->value('directory'), 'namespace' => $o->value('namespace') ?? ''];
    }

    private function stats(AbstractPool $pool): int
    {
        // The store's sizes; the pool's counters (hits, misses...) are this process's, all 0 here.
        $stats = $pool instanceof DynamoDbCachePool
            ? $pool->describeTable()
            : \array_intersect_key($pool->stats(), \array_flip(['entries', 'bytes_used', 'max_bytes', 'evictions']));

        return $this->result($this->place($pool) + $stats);
    }

    private function get(AbstractPool $pool, string $key): int
    {
        $item = $pool->getItem($key);
        if (!$item->isHit()) {
            if ($this->json) {
                $this->writeJson(['key' => $key, 'found' => false]);
            } else {
                $this->progress(\sprintf('key %s not found', self::quote($key)));
            }

            return ExitCode::NOT_FOUND;
        }
        $value = $item->get();
        if ($this->json) {
            $this->writeJson(['key' => $key, 'found' => true, 'type' => \get_debug_type($value)] + self::jsonValue($value));
        } else {
            \fwrite($this->stdout, \is_string($value) ? $value : \var_export($value, true) . "\n");
        }

        return ExitCode::OK;
    }

    private function delete(AbstractPool $pool, string $key): int
    {
        $pool->deleteItem($key);

        return $this->result($this->place($pool) + ['key' => $key, 'deleted' => true], \sprintf('deleted %s', self::quote($key)));
    }

    private function clear(AbstractPool $pool): int
    {
        $place = $this->place($pool);
        $started = \microtime(true);
        if ($pool instanceof TmpCachePool) {
            $entries = (int) ($pool->stats()['entries'] ?? 0);
            if ($entries >= self::CLEAR_PROGRESS_ENTRIES) {
                $this->progress(\sprintf('clearing namespace %s (the directory holds %d entries)...', self::quote($place['namespace']), $entries));
            }
        }
        $pool->clear();
        $seconds = \microtime(true) - $started;
        if ($seconds >= 1.0) {
            $this->progress(\sprintf('cleared in %.1f s', $seconds));
        }

        return $this->result($place + ['cleared' => true], \sprintf('cleared namespace %s', self::quote($place['namespace'])));
    }

    private function createTable(DynamoDbCachePool $pool): int
    {
        $table = (string) $this->place($pool)['table'];
        $first = $pool->createTable(false);
        $created = !\str_contains($first, ' exists');
        $this->progress(\sprintf('%s; waiting until it is ACTIVE', $created ? "created table {$table}" : "table {$table} exists"));
        $started = \microtime(true);
        $said = 0.0;
        while (($info = $pool->describeTable())['status'] !== 'ACTIVE') {
            $waited = \microtime(true) - $started;
            if ($waited > self::ACTIVE_TIMEOUT_SECONDS) {
                throw new \RuntimeException(\sprintf('table %s is still %s after %d s', $table, $info['status'], (int) $waited));
            }
            if ($waited - $said >= self::PROGRESS_EVERY_SECONDS) {
                $said = $waited;
                $this->progress(\sprintf('table %s is %s after %.0f s; waiting', $table, $info['status'], $waited));
            }
            \usleep(250000);
        }
        $this->progress(\sprintf('table %s is ACTIVE (after %.1f s)', $table, \microtime(true) - $started));
        // Again, now that the table is active: the call that turns on TTL.
        $note = $pool->createTable();
        $ttl = \str_contains($note, '; TTL on ');
        $rest = \strpos($note, ';');
        $message = ($created ? "created table {$table}" : "table {$table} exists") . ($rest === false ? '' : \substr($note, $rest));

        return $this->result([
            'store' => 'dynamodb',
            'table' => $table,
            'created' => $created,
            'status' => $info['status'],
            'billing_mode' => $info['billing_mode'],
            'ttl_enabled' => $ttl,
            'message' => $message,
        ], $message);
    }

    /**
     * Writes $data as JSON, or $human (else its "name: value" lines) for people.
     *
     * @param array<string, mixed> $data
     */
    private function result(array $data, ?string $human = null): int
    {
        if ($this->json) {
            $this->writeJson($data);
        } elseif ($human !== null) {
            $this->say($human);
        } else {
            foreach ($data as $name => $value) {
                $this->say(\sprintf('%s: %s', $name, match (true) {
                    $value === null => '(default)',
                    \is_bool($value) => $value ? 'yes' : 'no',
                    default => (string) $value,
                }));
            }
        }

        return ExitCode::OK;
    }

    /**
     * A value for JSON: `encoding` json (`value` is the value), base64 (a string that is not
     * UTF-8) or var_export (objects, and values JSON cannot hold: INF, NAN, binary strings in
     * arrays; `value` is PHP's var_export() of it).
     *
     * @return array{encoding: string, value: mixed}
     */
    private static function jsonValue(mixed $value): array
    {
        if (!self::hasObject($value)) {
            try {
                \json_encode($value, \JSON_THROW_ON_ERROR | \JSON_PRESERVE_ZERO_FRACTION);

                return ['encoding' => 'json', 'value' => $value];
            } catch (\JsonException) {
                if (\is_string($value)) {
                    return ['encoding' => 'base64', 'value' => \base64_encode($value)];
                }
            }
        }

        return ['encoding' => 'var_export', 'value' => \var_export($value, true)];
    }

    private static function hasObject(mixed $value): bool
    {
        if (\is_object($value)) {
            return true;
        }
        if (\is_array($value)) {
            foreach ($value as $v) {
                if (self::hasObject($v)) {
                    return true;
                }
            }
        }

        return false;
    }

    /** @param array<string, mixed> $data */
    private function writeJson(array $data): void
    {
        $flags = \JSON_UNESCAPED_SLASHES | \JSON_PRESERVE_ZERO_FRACTION | \JSON_INVALID_UTF8_SUBSTITUTE | \JSON_THROW_ON_ERROR;
        \fwrite($this->stdout, \json_encode($data, $flags) . "\n");
    }

    private function say(string $line): void
    {
        \fwrite($this->stdout, $line . "\n");
    }

    /** A progress line on stderr (never on stdout: --json's document stays alone there). */
    private function progress(string $line): void
    {
        if (!isset($this->options) || !$this->options->has('quiet')) {
            \fwrite($this->stderr, 'lambda-cache: ' . self::oneLine($line) . "\n");
        }
    }

    private function fail(\Throwable $e): int
    {
        $code = self::exitCode($e);
        $message = $e->getMessage();
        if (\str_starts_with($message, 'LambdaCache: ')) {
            $message = \substr($message, \strlen('LambdaCache: '));
        }
        if ($e instanceof \Error || $e instanceof \ErrorException) {
            $message = 'internal error: ' . $message;
        }
        $message = self::oneLine($message);
        \fwrite($this->stderr, 'lambda-cache: ' . $message . ($code === ExitCode::USAGE ? ' (see lambda-cache --help)' : '') . "\n");
        if ($this->json) {
            try {
                $this->writeJson(['error' => $message, 'exit_code' => $code]);
            } catch (\Throwable) {
                // stdout is gone: the stderr line and the status say it.
            }
        }

        return $code;
    }

    private static function exitCode(\Throwable $e): int
    {
        if ($e instanceof UsageException || $e instanceof InvalidArgumentException) {
            return ExitCode::USAGE;
        }
        $message = '';
        for ($x = $e; $x !== null; $x = $x->getPrevious()) {
            $message .= $x->getMessage() . "\n";
        }
        // The native store's words for DynamoDB's ResourceNotFoundException, and the error codes
        // of refused credentials and permissions.
        if (\preg_match('/: table \S+ does not exist|\bResourceNotFoundException\b/', $message) === 1) {
            return ExitCode::TABLE_NOT_FOUND;
        }
        if (\preg_match('/\b(AccessDeniedException|UnrecognizedClientException|InvalidSignatureException|'
            . 'MissingAuthenticationTokenException|IncompleteSignatureException|ExpiredTokenException|InvalidClientTokenId)\b/', $message) === 1) {
            return ExitCode::ACCESS_DENIED;
        }

        return ExitCode::STORE_ERROR;
    }

    private static function oneLine(string $text): string
    {
        return \trim((string) \preg_replace('/[\x00-\x1f\x7f]+/', ' ', $text));
    }

    private static function quote(string $text): string
    {
        return '"' . \addcslashes($text, "\0..\37\"\\\177") . '"';
    }
}
