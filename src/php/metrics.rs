//! EMF lines to stderr (`crate::metrics`): a pool with EMF on registers its reporter here;
//! request shutdown writes each live pool's line of the request's activity, and a pool freed
//! before then writes its own. So a pool writes at most one line per request, and none when it
//! did nothing.

use crate::error::{Error, Result};
use crate::metrics::{EmfTarget, Emitter, Metrics};
use crate::settings::{self, Emf};
use ext_php_rs::types::Zval;
use std::cell::RefCell;
use std::io::Write;
use std::rc::{Rc, Weak};
use std::sync::Arc;

/// One pool's EMF output.
pub struct Reporter {
    emitter: Emitter,
    metrics: Arc<Metrics>,
}

thread_local! {
    static LIVE: RefCell<Vec<Weak<Reporter>>> = const { RefCell::new(Vec::new()) };
}

/// The `metrics` option: `null` (the setting decides), a bool, or a CloudWatch namespace.
fn option(z: Option<&Zval>) -> Result<Option<Emf>> {
    let Some(z) = z.filter(|z| !z.is_null()) else {
        return Ok(None);
    };
    if let Some(b) = z.bool().filter(|_| z.is_bool()) {
        return Ok(Some(if b { Emf::On } else { Emf::Off }));
    }
    match z.str() {
        Some(s) => Ok(Some(Emf::Named(s.to_string()))),
        None => Err(Error::InvalidConfig(
            "metrics must be a bool, a string or null".into(),
        )),
    }
}

/// The reporter of a pool, when the option (else `lambda_cache.metrics_emf`) turns EMF on.
pub fn reporter(
    z: Option<&Zval>,
    store: &'static str,
    pool_namespace: &str,
    metrics: &Arc<Metrics>,
) -> Result<Option<Rc<Reporter>>> {
    let Some(namespace) = settings::emf_namespace(&super::ini::settings(), option(z)?)? else {
        return Ok(None);
    };
    let r = Rc::new(Reporter {
        emitter: Emitter::new(EmfTarget {
            namespace,
            store,
            pool_namespace: pool_namespace.to_string(),
        }),
        metrics: metrics.clone(),
    });
    LIVE.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|w| w.strong_count() > 0);
        l.push(Rc::downgrade(&r));
    });
    Ok(Some(r))
}

impl Reporter {
    /// Writes the line of the activity since the last one, if any, to stderr in one write.
    pub fn flush(&self) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        if let Some(mut line) = self.emitter.take(&self.metrics, now) {
            line.push('\n');
            // Best effort: metrics never fail the request.
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Request shutdown: every live pool's line.
pub fn request_shutdown() {
    let live: Vec<Rc<Reporter>> = LIVE.with(|l| {
        let mut l = l.borrow_mut();
        l.retain(|w| w.strong_count() > 0);
        l.iter().filter_map(Weak::upgrade).collect()
    });
    for r in live {
        r.flush();
    }
}
