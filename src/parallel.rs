//! Caller-owned, fork-safe parallelism.
//!
//! Every batch call spawns its own scoped threads (`std::thread::scope`) and joins
//! them before returning, so no thread outlives a call. A process that forks (PyTorch
//! DataLoader workers) therefore never inherits a pool whose threads are gone, which
//! is how global pools (rayon's, OpenMP's) deadlock after `fork()`. The price: each extra
//! thread costs ~45 us per call to spawn and join (benches/bench_parallel.py), about one
//! 854x480 frame's decode, so callers pick small thread counts for small batches.
//!
//! Work is handed out one item at a time from a shared iterator, so frames of
//! uneven cost balance across threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The number of threads to use for `items` work items.
///
/// `None` means one per available core. The result is at least 1 and never more
/// than `items` (no idle threads are spawned).
pub fn thread_count(requested: Option<usize>, items: usize) -> Result<usize> {
    if requested.is_none() && items <= 1 {
        // Asking the OS for the core count costs ~10 us: skip it when one thread is all we need.
        return Ok(1);
    }
    let n = match requested {
        Some(0) => {
            return Err(Error::param(
                "threads must be at least 1 (or None for all cores)",
            ))
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    Ok(n.min(items.max(1)))
}

/// Lock a mutex, ignoring poisoning: a panicking worker re-raises its panic when
/// the scope joins, so the data behind a poisoned lock is never used afterwards.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Run `f(index, item)` for every item on up to `threads` threads.
///
/// On failure, no new items are started and the error of the lowest-index failing
/// item is returned (deterministic whatever the scheduling).
pub fn for_each<I, F>(items: I, threads: usize, f: F) -> Result<()>
where
    I: IntoIterator,
    I::IntoIter: Send,
    I::Item: Send,
    F: Fn(usize, I::Item) -> Result<()> + Sync,
{
    let mut iter = items.into_iter().enumerate();
    if threads <= 1 {
        return iter.try_for_each(|(i, item)| f(i, item));
    }
    let queue = Mutex::new(iter);
    let failed = AtomicBool::new(false);
    let first_error: Mutex<Option<(usize, Error)>> = Mutex::new(None);
    let worker = || {
        while !failed.load(Ordering::Relaxed) {
            let next = lock(&queue).next();
            let Some((i, item)) = next else { break };
            if let Err(e) = f(i, item) {
                failed.store(true, Ordering::Relaxed);
                let mut slot = lock(&first_error);
                if slot.as_ref().is_none_or(|(j, _)| i < *j) {
                    *slot = Some((i, e));
                }
            }
        }
    };
    std::thread::scope(|s| {
        // The calling thread is one of the workers: its thread-local state (the PNG
        // inflater and scratch rows) is warm, and one spawn fewer per call. Measured with
        // read_pngs(out=) on 2 threads vs 1: 8 frames 1.15x -> 1.23x, 64 frames 1.76x -> 1.81x.
        for _ in 1..threads {
            s.spawn(worker);
        }
        worker();
    });
    match first_error.into_inner().unwrap_or_else(|e| e.into_inner()) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

/// Map `f` over `items` on up to `threads` threads, keeping the input order.
pub fn map<T, R, F>(items: Vec<T>, threads: usize, f: F) -> Result<Vec<R>>
where
    T: Send,
    R: Send,
    F: Fn(usize, T) -> Result<R> + Sync,
{
    let n = items.len();
    let slots: Mutex<Vec<Option<R>>> = Mutex::new((0..n).map(|_| None).collect());
    for_each(items, threads, |i, item| {
        let r = f(i, item)?;
        lock(&slots)[i] = Some(r);
        Ok(())
    })?;
    let slots = slots.into_inner().unwrap_or_else(|e| e.into_inner());
    // Every slot is filled when for_each returned Ok.
    Ok(slots.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_keeps_order_on_any_thread_count() {
        for threads in 1..=4 {
            let out = map((0..100u64).collect(), threads, |_, x| Ok(x * x)).unwrap();
            assert_eq!(out, (0..100u64).map(|x| x * x).collect::<Vec<_>>());
        }
    }

    #[test]
    fn lowest_index_error_wins() {
        for threads in 1..=4 {
            let r = for_each(0..50, threads, |i, _| {
                if i % 7 == 3 {
                    Err(Error::param(format!("item {i}")))
                } else {
                    Ok(())
                }
            });
            // With several threads a later item may fail first; index 3 is still reported
            // because items are handed out in order and 3 is always started.
            assert_eq!(r.unwrap_err().to_string(), "item 3");
        }
    }

    #[test]
    fn thread_count_bounds() {
        assert_eq!(thread_count(Some(8), 3).unwrap(), 3);
        assert_eq!(thread_count(Some(2), 0).unwrap(), 1);
        assert!(thread_count(Some(0), 5).is_err());
        assert!(thread_count(None, 1000).unwrap() >= 1);
    }
}
