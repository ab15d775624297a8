<?php

declare(strict_types=1);

namespace LambdaCache\Dev;

/**
 * What the loopback proxy (FaultProxyServer) needs of
 * HTTP/1.1 and of their parent: where a message ends, and whether the parent is still there.
 * Loaded by `require` in its child process, which has no autoloader.
 */
final class HttpWire
{
    /**
     * Cuts one complete HTTP/1.1 message (request or response) off the front of $buffer; null
     * while it is incomplete. The body is delimited by Content-Length or chunked encoding (with
     * trailers); none means no body.
     */
    public static function takeMessage(string &$buffer): ?string
    {
        $headEnd = strpos($buffer, "\r\n\r\n");
        if ($headEnd === false) {
            return null;
        }
        $bodyStart = $headEnd + 4;
        $head = substr($buffer, 0, $bodyStart);
        if (preg_match('/^transfer-encoding:[^\r\n]*chunked/im', $head) === 1) {
            $end = self::chunkedEnd($buffer, $bodyStart);
        } else {
            $length = preg_match('/^content-length:\s*(\d+)/im', $head, $m) === 1 ? (int) $m[1] : 0;
            $end = \strlen($buffer) >= $bodyStart + $length ? $bodyStart + $length : null;
        }
        if ($end === null) {
            return null;
        }
        $message = substr($buffer, 0, $end);
        $buffer = (string) substr($buffer, $end);

        return $message;
    }

    /**
     * Whether this process's parent is still $parentPid (true when it cannot tell, or for a pid
     * <= 0: the caller's other limits then apply).
     */
    public static function parentIs(int $parentPid): bool
    {
        if ($parentPid <= 0) {
            return true;
        }
        if (\function_exists('posix_getppid')) {
            return posix_getppid() === $parentPid;
        }
        $stat = @file_get_contents('/proc/self/stat');
        if (\is_string($stat) && preg_match('/\)\s+\S+\s+(\d+)/', $stat, $m) === 1) {
            return (int) $m[1] === $parentPid;
        }

        return true;
    }

    /** Where a chunked body that starts at $pos ends (after the last chunk and trailers), or null. */
    private static function chunkedEnd(string $buffer, int $pos): ?int
    {
        while (($lineEnd = strpos($buffer, "\r\n", $pos)) !== false) {
            $size = hexdec(trim(strtok(substr($buffer, $pos, $lineEnd - $pos), ';') ?: '0'));
            if ($size === 0) {
                // The last chunk's line, then trailer lines, then an empty line.
                $end = strpos($buffer, "\r\n\r\n", $lineEnd);

                return $end === false ? null : $end + 4;
            }
            $pos = $lineEnd + 2 + (int) $size + 2;
            if (\strlen($buffer) < $pos) {
                return null;
            }
        }

        return null;
    }
}
