//! The serialize() parser of `allowedClasses` (`classes::serialized_classes`) on arbitrary
//! bytes. Invariants: it never panics; what it accepts has no trailing bytes and no accepted
//! strict prefix; every class it reports is a valid class name found in the input; a policy
//! of exactly the reported classes accepts the payload, `None` accepts it only without
//! classes, and leaving out any reported class makes the policy refuse it. (That PHP creates
//! no object of a class it did not report is tests/classes_differential.rs, against PHP.)
#![no_main]

use lambda_cache::classes::{serialized_classes, ClassPolicy};
use lambda_cache::Error;
use libfuzzer_sys::fuzz_target;

fn lower(name: &[u8]) -> Vec<u8> {
    name.to_ascii_lowercase()
}

fuzz_target!(|data: &[u8]| {
    let Ok(classes) = serialized_classes(data) else {
        return;
    };
    let mut longer = data.to_vec();
    longer.push(b';');
    assert!(
        serialized_classes(&longer).is_err(),
        "trailing byte accepted"
    );
    for cut in [data.len() - 1, data.len() / 2] {
        assert!(
            serialized_classes(&data[..cut]).is_err(),
            "prefix {cut} accepted"
        );
    }
    for c in &classes {
        assert!(!c.is_empty() && c[0] != b'\\', "class {c:?}");
        assert!(
            data.windows(c.len()).any(|w| w == *c),
            "class {c:?} not in the input"
        );
    }
    assert!(ClassPolicy::only(&classes).check_serialized(data).is_ok());
    assert_eq!(
        ClassPolicy::None.check_serialized(data).is_ok(),
        classes.is_empty()
    );
    assert!(ClassPolicy::All.check_serialized(data).is_ok());
    for left_out in &classes {
        let rest = classes.iter().filter(|c| lower(c) != lower(left_out));
        assert!(
            matches!(
                ClassPolicy::only(rest).check_serialized(data),
                Err(Error::ClassNotAllowed(_))
            ),
            "accepted without {left_out:?}"
        );
    }
});
