<?php

declare(strict_types=1);

namespace LambdaCache\Cli;

/** The exit statuses of bin/lambda-cache (README, "Command line"; `lambda-cache --help`). */
final class ExitCode
{
    /** Done. */
    public const OK = 0;
    /** `get`: the key has no value (a miss, or expired). */
    public const NOT_FOUND = 1;
    /** A bad command, flag, flag value, key or namespace: nothing was done. */
    public const USAGE = 2;
    /** The store failed: the extension is not loaded, /tmp cannot be used, DynamoDB failed or did not answer, a stored value cannot be read back. */
    public const STORE_ERROR = 3;
    /** DynamoDB: the table does not exist (ResourceNotFoundException). */
    public const TABLE_NOT_FOUND = 4;
    /** DynamoDB: access denied or credentials refused (AccessDeniedException, UnrecognizedClientException, ...). */
    public const ACCESS_DENIED = 5;

    private function __construct()
    {
    }
}
