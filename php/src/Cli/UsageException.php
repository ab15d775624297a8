<?php

declare(strict_types=1);

namespace LambdaCache\Cli;

/** A bad command line: the command says so in one line and exits with ExitCode::USAGE. */
final class UsageException extends \RuntimeException
{
}
