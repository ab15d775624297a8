<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/** A user class with visibility-mixed typed properties, for object round trips. */
final class ValueObject
{
    public int $id;
    protected ?string $name;
    private array $tags;
    public mixed $child = null;

    public function __construct(int $id, ?string $name, array $tags)
    {
        $this->id = $id;
        $this->name = $name;
        $this->tags = $tags;
    }
}
