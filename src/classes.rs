//! `allowedClasses`: which classes a cached value may contain, checked on the bytes of PHP's
//! `serialize()` format before they are written and before they are read back, so a value whose
//! classes are not allowed is never stored and never instantiated.

use crate::error::{Error, Result};
use std::collections::HashSet;

/// Which classes may be cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassPolicy {
    /// No objects at all (the default).
    None,
    /// Any class (only for caches no one else can write to).
    All,
    /// These classes (lower-cased, without a leading backslash).
    Only(HashSet<Vec<u8>>),
}

impl ClassPolicy {
    /// A policy from a list of class names.
    pub fn only<I: IntoIterator<Item = S>, S: AsRef<[u8]>>(names: I) -> Self {
        ClassPolicy::Only(names.into_iter().map(|n| normalize(n.as_ref())).collect())
    }

    /// Whether objects of `class` may be cached.
    pub fn allows(&self, class: &[u8]) -> bool {
        match self {
            ClassPolicy::None => false,
            ClassPolicy::All => true,
            ClassPolicy::Only(set) => set.contains(&normalize(class)),
        }
    }

    /// Checks every class named in `serialize()` output against the policy.
    pub fn check_serialized(&self, bytes: &[u8]) -> Result<()> {
        if *self == ClassPolicy::All {
            return Ok(());
        }
        for class in serialized_classes(bytes)? {
            if !self.allows(class) {
                return Err(Error::ClassNotAllowed(
                    String::from_utf8_lossy(class).into_owned(),
                ));
            }
        }
        Ok(())
    }
}

fn normalize(name: &[u8]) -> Vec<u8> {
    let name = name.strip_prefix(b"\\").unwrap_or(name);
    name.to_ascii_lowercase()
}

/// The class names (objects, `Serializable`s, enums) in PHP `serialize()` output.
///
/// Accepts what PHP's `unserialize()` accepts (the grammar of php-src's
/// `ext/standard/var_unserializer.re`), or less: anything it cannot vouch for is
/// [`Error::Corrupt`]. Stricter than PHP on purpose: `S:` (escaped strings, never written by
/// `serialize()`), bytes after the value, lengths that overflow 64 bits (PHP wraps them, so
/// `O:18446744073709551619:"Foo"` would name `Foo`), class names with a leading `\`, nesting
/// beyond [`crate::codec::MAX_DEPTH`]. A `C:` (`Serializable`) payload is opaque: its class is
/// reported, and what its `unserialize()` method does with the bytes is up to that class.
pub fn serialized_classes(bytes: &[u8]) -> Result<Vec<&[u8]>> {
    let mut p = Parser {
        b: bytes,
        i: 0,
        classes: Vec::new(),
        slots: Vec::new(),
        opaque: false,
    };
    p.value(0, false)?;
    if p.i != bytes.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(p.classes)
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("serialized value: {what}"))
}

/// What `r:`/`R:` may point at: PHP numbers every value but array keys and `R:` from 1.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Object,
    Other,
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    classes: Vec<&'a [u8]>,
    /// The values numbered so far, for `r:` and `R:`.
    slots: Vec<Slot>,
    /// Set after a `C:`: its `unserialize()` may number values of its own, so references after
    /// it are only checked for being numbers from 1 on.
    opaque: bool,
}

fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn byte(&mut self) -> Result<u8> {
        let c = self.peek().ok_or_else(|| corrupt("truncated"))?;
        self.i += 1;
        Ok(c)
    }
    fn expect(&mut self, c: u8) -> Result<()> {
        if self.byte()? == c {
            Ok(())
        } else {
            Err(corrupt("unexpected byte"))
        }
    }
    /// Consumes bytes while `f` holds; how many.
    fn skip(&mut self, f: impl Fn(u8) -> bool) -> usize {
        let n = self.b[self.i..].iter().take_while(|&&c| f(c)).count();
        self.i += n;
        n
    }
    /// Consumes `c` if it is next.
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }
    /// PHP's `uiv`, `[0-9]+` (leading zeros allowed), as a number; one that does not fit is
    /// refused (PHP would wrap it).
    fn uiv(&mut self) -> Result<usize> {
        let start = self.i;
        if self.skip(is_digit) == 0 {
            return Err(corrupt("expected digits"));
        }
        digits_value(&self.b[start..self.i])
    }
    /// PHP's `iv`, `[+-]?[0-9]+` (an integer value: checked, not kept; PHP clamps overflow).
    fn iv(&mut self) -> Result<()> {
        if !self.eat(b'+') {
            self.eat(b'-');
        }
        if self.skip(is_digit) == 0 {
            return Err(corrupt("expected digits"));
        }
        Ok(())
    }
    /// The member count of `O:` and the length of `C:`, read by PHP's `parse_iv2`:
    /// `[+-]?[0-9]*` (no digits is 0), not negative.
    fn count(&mut self) -> Result<usize> {
        let neg = !self.eat(b'+') && self.eat(b'-');
        let start = self.i;
        self.skip(is_digit);
        let n = digits_value(&self.b[start..self.i])?;
        if neg && n != 0 {
            return Err(corrupt("negative count"));
        }
        Ok(n)
    }
    /// The body of a `d:` up to its `;`: `NAN`, `INF`, `-INF`, or a decimal number with an
    /// optional exponent (`[+-]?` then digits with at most one `.` and at least one digit).
    fn double(&mut self) -> Result<()> {
        for word in [&b"NAN;"[..], b"INF;", b"-INF;"] {
            if self.b[self.i..].starts_with(word) {
                self.i += word.len() - 1;
                return Ok(());
            }
        }
        if !self.eat(b'+') {
            self.eat(b'-');
        }
        let int = self.skip(is_digit);
        let frac = if self.eat(b'.') {
            self.skip(is_digit)
        } else if int == 0 {
            return Err(corrupt("bad float"));
        } else {
            0
        };
        if int + frac == 0 {
            return Err(corrupt("bad float"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            self.iv()?;
        }
        Ok(())
    }
    /// The next `n` bytes; a length past the end (however large) is corrupt, not a panic.
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let s = self
            .i
            .checked_add(n)
            .and_then(|end| self.b.get(self.i..end))
            .ok_or_else(|| corrupt("truncated"))?;
        self.i += n;
        Ok(s)
    }
    /// `LEN:"bytes"`, consuming the closing quote.
    fn quoted(&mut self) -> Result<&'a [u8]> {
        let len = self.uiv()?;
        self.expect(b':')?;
        self.expect(b'"')?;
        let s = self.take(len)?;
        self.expect(b'"')?;
        Ok(s)
    }
    /// A class name as PHP's unserialize() takes it: `[A-Za-z0-9_\x80-\xff\\]+`, and (stricter
    /// than the grammar, as PHP cannot load it anyway) not starting with `\`.
    fn class(&mut self, name: &'a [u8]) -> Result<()> {
        if !valid_class_name(name) {
            return Err(corrupt("invalid class name"));
        }
        self.classes.push(name);
        Ok(())
    }
    /// `{` then `pairs` keys (`i:` or `s:`, as PHP refuses any other key) and values, then `}`.
    fn members(&mut self, depth: usize, pairs: usize) -> Result<()> {
        self.expect(b'{')?;
        for _ in 0..pairs {
            self.value(depth + 1, true)?;
            self.value(depth + 1, false)?;
        }
        self.expect(b'}')
    }
    fn value(&mut self, depth: usize, key: bool) -> Result<()> {
        if depth > crate::codec::MAX_DEPTH {
            return Err(corrupt("nesting too deep"));
        }
        let tag = self.byte()?;
        if key && !matches!(tag, b'i' | b's') {
            return Err(corrupt("array keys are integers or strings"));
        }
        // PHP numbers every value but keys and `R:` before reading it.
        let slot = self.slots.len();
        if !key && tag != b'R' {
            self.slots.push(Slot::Other);
        }
        if tag == b'N' {
            return self.expect(b';');
        }
        self.expect(b':')?;
        match tag {
            b'b' => {
                if !matches!(self.byte()?, b'0' | b'1') {
                    return Err(corrupt("bad bool"));
                }
            }
            b'i' => self.iv()?,
            b'd' => self.double()?,
            b'r' | b'R' => {
                let id = self.uiv()?;
                // `r:` (an object handle) points at an object numbered before this value;
                // `R:` (a PHP reference) at any value numbered so far.
                let target = id.checked_sub(1).ok_or_else(|| corrupt("reference to 0"))?;
                if !self.opaque {
                    let ok = match tag {
                        b'r' => target < slot && self.slots[target] == Slot::Object,
                        _ => target < slot,
                    };
                    if !ok {
                        return Err(corrupt("reference to no such value"));
                    }
                }
                if tag == b'r' {
                    self.slots[slot] = Slot::Object;
                }
            }
            b's' => {
                self.quoted()?;
            }
            b'S' => return Err(corrupt("escaped strings are not produced by serialize()")),
            b'a' => {
                let n = self.uiv()?;
                self.expect(b':')?;
                self.members(depth, n)?;
                return Ok(());
            }
            b'O' => {
                self.slots[slot] = Slot::Object;
                let class = self.quoted()?;
                self.class(class)?;
                self.expect(b':')?;
                let n = self.count()?;
                self.expect(b':')?;
                self.members(depth, n)?;
                return Ok(());
            }
            b'C' => {
                self.slots[slot] = Slot::Object;
                let class = self.quoted()?;
                self.class(class)?;
                self.expect(b':')?;
                let n = self.count()?;
                self.expect(b':')?;
                self.expect(b'{')?;
                self.take(n)?;
                self.opaque = true;
                return self.expect(b'}');
            }
            b'E' => {
                self.slots[slot] = Slot::Object;
                let name = self.quoted()?;
                let colon = name.iter().position(|&c| c == b':');
                let (class, case) = match colon {
                    Some(at) => (&name[..at], &name[at + 1..]),
                    None => return Err(corrupt("enum without a case")),
                };
                if case.is_empty() {
                    return Err(corrupt("enum without a case"));
                }
                self.class(class)?;
            }
            _ => return Err(corrupt("unknown type")),
        }
        self.expect(b';')
    }
}

/// Decimal digits (possibly none: 0) as a number, refusing overflow.
fn digits_value(digits: &[u8]) -> Result<usize> {
    digits.iter().try_fold(0usize, |n, &c| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(usize::from(c - b'0')))
            .ok_or_else(|| corrupt("number out of range"))
    })
}

fn valid_class_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name[0] != b'\\'
        && name
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'\\' || c >= 0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NESTED: &[u8] = br#"a:3:{i:0;O:8:"stdClass":1:{s:1:"a";O:3:"Foo":0:{}}s:3:"x:y";s:10:"O:3:"Bar";";i:1;E:7:"Suit:Hi";}"#;

    #[test]
    fn finds_every_class_and_skips_strings() {
        let classes = serialized_classes(NESTED).unwrap();
        assert_eq!(classes, vec![&b"stdClass"[..], b"Foo", b"Suit"]);
        let custom = br#"C:11:"ArrayObject":21:{x:i:0;a:0:{};m:a:0:{}}"#;
        assert_eq!(
            serialized_classes(custom).unwrap(),
            vec![&b"ArrayObject"[..]]
        );
        assert!(serialized_classes(b"a:1:{i:0;d:-0;}").unwrap().is_empty());
    }

    #[test]
    fn policies() {
        assert!(ClassPolicy::All.check_serialized(NESTED).is_ok());
        assert!(ClassPolicy::None.check_serialized(b"i:5;").is_ok());
        assert_eq!(
            ClassPolicy::None.check_serialized(NESTED),
            Err(Error::ClassNotAllowed("stdClass".into()))
        );
        let some = ClassPolicy::only(["\\STDCLASS", "foo"]);
        assert_eq!(
            some.check_serialized(NESTED),
            Err(Error::ClassNotAllowed("Suit".into()))
        );
        assert!(ClassPolicy::only(["stdclass", "Foo", "Suit"])
            .check_serialized(NESTED)
            .is_ok());
    }

    #[test]
    fn truncated_or_garbage_is_corrupt() {
        for cut in 1..NESTED.len() {
            assert!(serialized_classes(&NESTED[..cut]).is_err(), "cut at {cut}");
        }
        assert!(serialized_classes(b"s:99999999999999999999:\"\";").is_err());
        assert!(serialized_classes(b"C:1:\"A\":999:{}").is_err());
    }

    fn accepted(payload: &str) -> bool {
        serialized_classes(payload.as_bytes()).is_ok()
    }

    /// Issue #14 item 8: what PHP 8.2's unserialize() refuses is corrupt here too.
    #[test]
    fn refuses_what_php_refuses() {
        for bad in [
            "a:+1:{i:0;i:1;}",
            "a:-0:{}",
            "i:abc;",
            "i:;",
            "i:+-1;",
            "i:1 ;",
            "b:7;",
            "b:01;",
            "b:;",
            "d:abc;",
            "d:;",
            "d:1e;",
            "d:+INF;",
            "d:-NAN;",
            "s:+1:\"a\";",
            "O:+8:\"stdClass\":0:{}",
            "O:8:\"stdClass\":-1:{}",
            "O:8:\"stdClass\":1x:{}",
            "C:3:\"Foo\":-1:{}",
            // Class names PHP refuses.
            "O:3:\"A b\":0:{}",
            "O:0:\"\":0:{}",
            "O:2:\"\\a\":0:{}",
            "E:3:\"Foo\";",
            "E:4:\"Foo:\";",
            "E:4:\":Foo\";",
            // Keys are integers or strings.
            "a:1:{N;i:1;}",
            "a:1:{b:1;i:1;}",
            "a:1:{d:0;i:1;}",
            "a:1:{a:0:{}i:1;}",
            "O:8:\"stdClass\":1:{d:0;i:1;}",
            // References to nothing, to themselves, or (r:) to a non-object.
            "r:1;",
            "R:1;",
            "a:1:{i:0;R:0;}",
            "a:1:{i:0;r:1;}",
            "a:2:{i:0;i:5;i:1;R:3;}",
            "a:2:{i:0;a:0:{}i:1;r:2;}",
            "a:2:{i:0;N;i:1;r:2;}",
        ] {
            assert!(
                matches!(serialized_classes(bad.as_bytes()), Err(Error::Corrupt(_))),
                "{bad}"
            );
        }
    }

    /// And what it accepts (however odd) is accepted, with its classes.
    #[test]
    fn accepts_what_php_accepts() {
        for good in [
            "a:01:{i:0;i:1;}",
            "i:+5;",
            "i:-0;",
            "i:99999999999999999999;",
            "d:1.;",
            "d:.5;",
            "d:-.5;",
            "d:1e5;",
            "d:+.5e-3;",
            "d:1E-3;",
            "d:NAN;",
            "d:INF;",
            "d:-INF;",
            "s:01:\"a\";",
            "O:8:\"stdClass\":+1:{i:0;i:1;}",
            "O:8:\"stdClass\"::{}",
            "O:8:\"stdClass\":-:{}",
            "O:8:\"stdClass\":-0:{}",
            "C:3:\"Foo\"::{}",
            "C:3:\"Foo\":+2:{N;}",
            "O:3:\"a\\b\":0:{}",
            "O:1:\"1\":0:{}",
            "a:1:{i:0;R:1;}",
            "a:1:{i:0;R:01;}",
            "a:2:{i:0;i:5;i:1;R:2;}",
            "a:2:{i:0;O:8:\"stdClass\":0:{}i:1;r:2;}",
            "O:8:\"stdClass\":1:{s:1:\"a\";r:1;}",
        ] {
            assert!(accepted(good), "{good}");
        }
        assert_eq!(
            serialized_classes(b"O:8:\"stdClass\"::{}").unwrap(),
            vec![&b"stdClass"[..]]
        );
    }

    /// `pairs * 2` wrapped to 0 in release builds (accepting `a:9223372036854775808:{}`) and
    /// overflowed in debug builds (a panic).
    #[test]
    fn element_counts_do_not_overflow() {
        let half = usize::MAX / 2 + 1;
        for bad in [
            format!("a:{half}:{{}}"),
            format!("O:8:\"stdClass\":{half}:{{}}"),
            format!("a:{}:{{}}", usize::MAX),
            format!("a:{}0:{{}}", usize::MAX),
            format!("O:8:\"stdClass\":{}0:{{}}", usize::MAX),
        ] {
            assert!(
                matches!(serialized_classes(bad.as_bytes()), Err(Error::Corrupt(_))),
                "{bad}"
            );
        }
    }

    /// PHP wraps lengths past 64 bits (`O:18446744073709551619:"Foo"` names `Foo`): refused.
    #[test]
    fn lengths_past_64_bits_are_refused() {
        assert!(!accepted("O:18446744073709551619:\"Foo\":0:{}"));
        assert!(!accepted("s:18446744073709551617:\"a\";"));
        assert!(!accepted("a:1:{i:0;R:18446744073709551617;}"));
    }

    #[test]
    fn huge_lengths_are_corrupt_not_a_panic() {
        let max = usize::MAX;
        for bad in [
            format!("s:{max}:\"x\";"),
            format!("O:{max}:\"x\":0:{{}}"),
            format!("E:{max}:\"x\";"),
            format!("C:1:\"A\":{max}:{{}}"),
            format!("a:1:{{s:{max}:\"k\";i:0;}}"),
        ] {
            assert!(
                matches!(serialized_classes(bad.as_bytes()), Err(Error::Corrupt(_))),
                "{bad}"
            );
        }
    }
}
