//! Chunking and retrying of DynamoDB batch calls, apart from the client so it can be tested with a
//! fake backend: BatchGetItem takes at most 100 keys, BatchWriteItem 25 requests, and both may
//! hand back part of the work (`UnprocessedKeys` / `UnprocessedItems`) to be sent again.

use crate::aws::retry::Backoff;
use crate::error::{Error, Result};
use std::future::Future;

pub const GET_CHUNK: usize = 100;
pub const WRITE_CHUNK: usize = 25;

/// Sends `work` in chunks of `chunk`, all chunks at once, each chunk again and again with what
/// `call` answers as unprocessed, until nothing is left or `backoff.rounds` are spent.
/// `call(chunk)` answers `(results, unprocessed)`.
pub async fn run<W, R, F, Fut>(
    work: Vec<W>,
    chunk: usize,
    backoff: Backoff,
    call: F,
) -> Result<Vec<R>>
where
    F: Fn(Vec<W>) -> Fut,
    Fut: Future<Output = Result<(Vec<R>, Vec<W>)>>,
{
    let mut chunks = Vec::new();
    let mut it = work.into_iter().peekable();
    while it.peek().is_some() {
        chunks.push(it.by_ref().take(chunk).collect::<Vec<W>>());
    }
    let seed = Backoff::seed();
    let runs = chunks.into_iter().enumerate().map(|(i, c)| {
        let call = &call;
        async move {
            let mut out = Vec::new();
            let mut pending = c;
            for round in 0..=backoff.rounds {
                if round > 0 {
                    tokio::time::sleep(backoff.delay(round - 1, seed.wrapping_add(i as u64))).await;
                }
                let (mut got, left) = call(pending).await?;
                out.append(&mut got);
                if left.is_empty() {
                    return Ok(out);
                }
                pending = left;
            }
            Err(Error::Storage(format!(
                "{} requests still unprocessed after {} retries (throttled?)",
                pending.len(),
                backoff.rounds
            )))
        }
    });
    let mut all = Vec::new();
    for r in futures_util::future::join_all(runs).await {
        all.append(&mut r?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::time::Duration;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn chunks_are_bounded_and_unprocessed_work_is_retried() {
        let calls = RefCell::new(Vec::new());
        let keys: Vec<u32> = (0..250).collect();
        let fast = Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(2),
            rounds: 5,
        };
        let got = rt()
            .block_on(run(keys, GET_CHUNK, fast, |chunk: Vec<u32>| {
                calls.borrow_mut().push(chunk.len());
                async move {
                    // Answer the first 30 of each call; hand the rest back as unprocessed.
                    let split = chunk.len().min(30);
                    Ok((chunk[..split].to_vec(), chunk[split..].to_vec()))
                }
            }))
            .unwrap();
        let mut got = got;
        got.sort_unstable();
        assert_eq!(got, (0..250).collect::<Vec<_>>());
        let calls = calls.into_inner();
        assert!(calls.iter().all(|&n| n <= GET_CHUNK), "{calls:?}");
        assert_eq!(calls.iter().filter(|&&n| n == 100).count(), 2, "{calls:?}");
    }

    #[test]
    fn work_that_never_gets_processed_fails_after_the_last_round() {
        let fast = Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(1),
            rounds: 3,
        };
        let count = RefCell::new(0);
        let r = rt().block_on(run(
            (0..10).collect::<Vec<u8>>(),
            WRITE_CHUNK,
            fast,
            |c: Vec<u8>| {
                *count.borrow_mut() += 1;
                async move { Ok((Vec::<u8>::new(), c)) }
            },
        ));
        assert!(matches!(r, Err(Error::Storage(_))), "{r:?}");
        assert_eq!(count.into_inner(), 4);
    }

    #[test]
    fn an_error_fails_the_batch() {
        let r = rt().block_on(run(
            (0..60).collect::<Vec<u8>>(),
            WRITE_CHUNK,
            Backoff::default(),
            |c: Vec<u8>| async move {
                if c.contains(&30) {
                    Err(Error::Storage("boom".into()))
                } else {
                    Ok((c, Vec::new()))
                }
            },
        ));
        assert_eq!(r, Err(Error::Storage("boom".into())));
    }
}
