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
pub fn serialized_classes(bytes: &[u8]) -> Result<Vec<&[u8]>> {
    let mut p = Parser {
        b: bytes,
        i: 0,
        classes: Vec::new(),
    };
    p.value(0)?;
    if p.i != bytes.len() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(p.classes)
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt(format!("serialized value: {what}"))
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
    classes: Vec<&'a [u8]>,
}

impl<'a> Parser<'a> {
    fn byte(&mut self) -> Result<u8> {
        let c = *self.b.get(self.i).ok_or_else(|| corrupt("truncated"))?;
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
    /// Bytes up to (not including) `end`, consuming `end`.
    fn until(&mut self, end: u8) -> Result<&'a [u8]> {
        let rest = &self.b[self.i..];
        let n = rest
            .iter()
            .position(|&c| c == end)
            .ok_or_else(|| corrupt("truncated"))?;
        self.i += n + 1;
        Ok(&rest[..n])
    }
    fn number(&mut self, end: u8) -> Result<usize> {
        let digits = self.until(end)?;
        std::str::from_utf8(digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| corrupt("bad length"))
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
        let len = self.number(b':')?;
        self.expect(b'"')?;
        let s = self.take(len)?;
        self.expect(b'"')?;
        Ok(s)
    }
    fn members(&mut self, depth: usize, pairs: usize) -> Result<()> {
        self.expect(b'{')?;
        for _ in 0..pairs * 2 {
            self.value(depth + 1)?;
        }
        self.expect(b'}')
    }
    fn value(&mut self, depth: usize) -> Result<()> {
        if depth > crate::codec::MAX_DEPTH {
            return Err(corrupt("nesting too deep"));
        }
        let tag = self.byte()?;
        if tag == b'N' {
            return self.expect(b';');
        }
        self.expect(b':')?;
        match tag {
            b'b' | b'i' | b'd' | b'r' | b'R' => {
                self.until(b';')?;
            }
            b's' => {
                self.quoted()?;
                self.expect(b';')?;
            }
            b'S' => return Err(corrupt("escaped strings are not produced by serialize()")),
            b'a' => {
                let n = self.number(b':')?;
                self.members(depth, n)?;
            }
            b'O' => {
                let class = self.quoted()?;
                self.classes.push(class);
                self.expect(b':')?;
                let n = self.number(b':')?;
                self.members(depth, n)?;
            }
            b'C' => {
                let class = self.quoted()?;
                self.classes.push(class);
                self.expect(b':')?;
                let n = self.number(b':')?;
                self.expect(b'{')?;
                self.take(n)?;
                self.expect(b'}')?;
            }
            b'E' => {
                let name = self.quoted()?;
                let class = name.split(|&c| c == b':').next().unwrap_or(name);
                self.classes.push(class);
                self.expect(b';')?;
            }
            _ => return Err(corrupt("unknown type")),
        }
        Ok(())
    }
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
