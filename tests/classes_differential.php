<?php
// The PHP half of tests/classes_differential.rs. Reads payloads from stdin (a byte for the
// mode, 1 = allowed_classes => true, 0 = false; a 4-byte little-endian length; the bytes) and
// for each writes a line: its number, 1 or 0 (unserialize() returned something other than
// false), then the lower-cased classes PHP looked up or created, separated by spaces.
// No class is defined here: every class a payload names is looked up through the autoloader
// (and unserialize_callback_func), which records its name and defines nothing.
error_reporting(E_ERROR | E_CORE_ERROR | E_COMPILE_ERROR);
$seen = [];
function lc_record($class) { $GLOBALS['seen'][strtolower($class)] = true; }
spl_autoload_register('lc_record');
ini_set('unserialize_callback_func', 'lc_record');

function lc_walk($v, array &$out, array &$done, int $depth): void
{
    if ($depth > 64) {
        return;
    }
    if (is_array($v)) {
        foreach ($v as $item) {
            lc_walk($item, $out, $done, $depth + 1);
        }
    } elseif (is_object($v)) {
        if (isset($done[spl_object_id($v)])) {
            return;
        }
        $done[spl_object_id($v)] = true;
        $class = get_class($v);
        $props = (array) $v;
        if ($class === '__PHP_Incomplete_Class' && isset($props['__PHP_Incomplete_Class_Name'])
            && isset($GLOBALS['seen'][strtolower($props['__PHP_Incomplete_Class_Name'])])) {
            $class = $props['__PHP_Incomplete_Class_Name']; // already recorded by its lookup
        }
        $out[strtolower($class)] = true;
        lc_walk($props, $out, $done, $depth + 1);
        if ($v instanceof ArrayObject || $v instanceof ArrayIterator) {
            lc_walk($v->getArrayCopy(), $out, $done, $depth + 1);
        }
    }
}

$in = STDIN;
for ($n = 0; ($head = fread($in, 5)) !== false && strlen($head) === 5; $n++) {
    $mode = ord($head[0]);
    $len = unpack('V', substr($head, 1))[1];
    $payload = $len > 0 ? stream_get_contents($in, $len) : '';
    $seen = [];
    try {
        $value = unserialize($payload, ['allowed_classes' => $mode === 1]);
    } catch (Throwable $e) { // e.g. ArrayObject::__unserialize() on data it does not take
        $value = false;
    }
    $classes = $seen;
    $done = [];
    lc_walk($value, $classes, $done, 0);
    echo $n, ' ', $value === false && $payload !== 'b:0;' ? 0 : 1, ' ', implode(' ', array_keys($classes)), "\n";
    unset($value);
}
