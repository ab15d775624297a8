<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/** What PSR getItems()/getMultiple() return (array or Traversable), as an array with its keys. */
final class Items
{
    /** @return array<string|int, mixed> */
    public static function toArray(iterable $items): array
    {
        return \is_array($items) ? $items : iterator_to_array($items, true);
    }
}
