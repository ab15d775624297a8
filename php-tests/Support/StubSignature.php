<?php

declare(strict_types=1);

namespace LambdaCache\Tests\Support;

/**
 * A comparable description of functions and classes, from reflection (see StubsTest).
 */
final class StubSignature
{
    /**
     * @param array{functions: list<string>, classes: list<string>} $names
     * @return array<string, mixed>
     */
    public static function describe(array $names): array
    {
        $out = ['functions' => [], 'classes' => []];
        foreach ($names['functions'] as $f) {
            $out['functions'][$f] = \function_exists($f) ? self::signature(new \ReflectionFunction($f)) : 'missing';
        }
        foreach ($names['classes'] as $c) {
            if (!\class_exists($c, false)) {
                $out['classes'][$c] = 'missing';
                continue;
            }
            $rc = new \ReflectionClass($c);
            $methods = [];
            foreach ($rc->getMethods() as $m) {
                if ($m->getDeclaringClass()->getName() === $rc->getName()) {
                    $methods[$m->getName()] = ($m->isStatic() ? 'static ' : '') . self::signature($m);
                }
            }
            \ksort($methods);
            $out['classes'][$c] = [
                'parent' => $rc->getParentClass() ? $rc->getParentClass()->getName() : null,
                'final' => $rc->isFinal(),
                'methods' => $methods,
            ];
        }

        return $out;
    }

    private static function signature(\ReflectionFunctionAbstract $f): string
    {
        $params = [];
        foreach ($f->getParameters() as $p) {
            $params[] = ($p->hasType() ? $p->getType() . ' ' : '') . '$' . $p->getName() . ($p->isOptional() ? ' = ?' : '');
        }

        return '(' . \implode(', ', $params) . ')' . ($f->hasReturnType() ? ': ' . $f->getReturnType() : '');
    }
}
