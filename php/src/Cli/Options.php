<?php

declare(strict_types=1);

namespace LambdaCache\Cli;

/**
 * The command line of bin/lambda-cache, parsed: the command, its arguments and the flags
 * (`--name=value` or `--name value`, anywhere; `--` ends the flags).
 */
final class Options
{
    public const COMMANDS = ['stats', 'get', 'delete', 'clear', 'create-table'];

    /** Flags that take a value, with the store they belong to (null: both). */
    private const VALUED = [
        'store' => null,
        'namespace' => null,
        'allowed-classes' => null,
        'directory' => 'tmp',
        'max-bytes' => 'tmp',
        'table' => 'dynamodb',
        'region' => 'dynamodb',
        'endpoint' => 'dynamodb',
    ];

    /** Flags without a value. */
    private const SWITCHES = ['json', 'quiet', 'help'];

    /**
     * @param array<string, string> $values flags given with a value
     * @param array<string, true> $switches flags given without one
     * @param list<string> $arguments the command's arguments
     */
    private function __construct(
        public readonly ?string $command,
        public readonly array $arguments,
        private array $values,
        private array $switches,
    ) {
    }

    /**
     * @param list<string> $argv without the script name
     * @throws UsageException
     */
    public static function parse(array $argv): self
    {
        $values = [];
        $switches = [];
        $positional = [];
        $flags = true;
        for ($i = 0, $n = \count($argv); $i < $n; $i++) {
            $arg = $argv[$i];
            if (!$flags || $arg === '-' || !\str_starts_with($arg, '-')) {
                $positional[] = $arg;
                continue;
            }
            if ($arg === '--') {
                $flags = false;
                continue;
            }
            if ($arg === '-h') {
                $switches['help'] = true;
                continue;
            }
            if (!\str_starts_with($arg, '--')) {
                throw new UsageException(\sprintf('unknown option %s', $arg));
            }
            $eq = \strpos($arg, '=');
            $name = \substr($arg, 2, $eq === false ? null : $eq - 2);
            if (\array_key_exists($name, self::VALUED)) {
                if ($eq !== false) {
                    $value = \substr($arg, $eq + 1);
                } elseif ($i + 1 < $n && !\str_starts_with($argv[$i + 1], '--')) {
                    $value = $argv[++$i];
                } else {
                    throw new UsageException(\sprintf('--%s needs a value', $name));
                }
                $values[$name] = $value;
            } elseif (\in_array($name, self::SWITCHES, true)) {
                if ($eq !== false) {
                    throw new UsageException(\sprintf('--%s takes no value', $name));
                }
                $switches[$name] = true;
            } else {
                throw new UsageException(\sprintf('unknown option --%s', $name));
            }
        }
        $command = \array_shift($positional);
        if ($command === 'help') {
            $switches['help'] = true;
            $command = null;
        }

        return new self($command, $positional, $values, $switches);
    }

    /** Whether --json was given (also when the rest of the command line is bad). */
    public static function wantsJson(array $argv): bool
    {
        foreach ($argv as $arg) {
            if ($arg === '--') {
                return false;
            }
            if ($arg === '--json') {
                return true;
            }
        }

        return false;
    }

    public function has(string $switch): bool
    {
        return isset($this->switches[$switch]);
    }

    public function value(string $name): ?string
    {
        return $this->values[$name] ?? null;
    }

    /**
     * The store: --store, else dynamodb when a DynamoDB flag is given or the command is
     * create-table, else tmp. A flag of the other store is a usage error.
     *
     * @throws UsageException
     */
    public function store(): string
    {
        $store = $this->value('store');
        if ($store === null) {
            $store = $this->command === 'create-table' ? 'dynamodb' : 'tmp';
            foreach ($this->values as $name => $_) {
                if (self::VALUED[$name] === 'dynamodb') {
                    $store = 'dynamodb';
                }
            }
        }
        if ($store !== 'tmp' && $store !== 'dynamodb') {
            throw new UsageException(\sprintf("--store must be tmp or dynamodb, not '%s'", $store));
        }
        foreach ($this->values as $name => $_) {
            if (self::VALUED[$name] !== null && self::VALUED[$name] !== $store) {
                throw new UsageException(\sprintf('--%s is a flag of --store=%s, not of --store=%s', $name, self::VALUED[$name], $store));
            }
        }

        return $store;
    }

    /**
     * --allowed-classes: `none` (no objects), `all` (any class) or a comma-separated list of
     * class names; null when not given (the pool's default).
     *
     * @return bool|list<string>|null
     * @throws UsageException
     */
    public function allowedClasses(): bool|array|null
    {
        $value = $this->value('allowed-classes');
        if ($value === null) {
            return null;
        }
        if ($value === 'none') {
            return false;
        }
        if ($value === 'all') {
            return true;
        }
        $classes = [];
        foreach (\explode(',', $value) as $class) {
            $class = \ltrim(\trim($class), '\\');
            if (\preg_match('/^[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*(\\\\[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)*$/', $class) !== 1) {
                throw new UsageException(\sprintf("--allowed-classes takes none, all or class names separated by commas, not '%s'", $value));
            }
            $classes[] = $class;
        }

        return $classes;
    }

    /** @throws UsageException */
    public function maxBytes(): ?int
    {
        $value = $this->value('max-bytes');
        if ($value === null) {
            return null;
        }
        if (\preg_match('/^[0-9]{1,18}$/', $value) !== 1) {
            throw new UsageException(\sprintf("--max-bytes must be a number of bytes, not '%s'", $value));
        }

        return (int) $value;
    }
}
