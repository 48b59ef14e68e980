//! Work over a list on a few threads, in shares handed out as the threads ask.

use std::sync::atomic::{AtomicUsize, Ordering};

/// `work(item, scratch)` for each of `items` on `threads` threads (each with its own
/// `S`, kept from item to item); the results in the order of `items`.
pub fn map_in_order<T: Sync, R: Send, S: Default>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T, &mut S) -> R + Sync,
) -> Vec<R> {
    const SHARE: usize = 32;
    let threads = threads.clamp(1, items.len().div_ceil(SHARE).max(1));
    if threads == 1 {
        let mut scratch = S::default();
        return items.iter().map(|t| work(t, &mut scratch)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    let mut scratch = S::default();
                    loop {
                        let start = next.fetch_add(SHARE, Ordering::Relaxed);
                        if start >= items.len() {
                            return mine;
                        }
                        let end = (start + SHARE).min(items.len());
                        let part = items[start..end].iter().map(|t| work(t, &mut scratch));
                        mine.push((start, part.collect()));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker thread panicked"))
            .collect()
    });
    parts.sort_by_key(|&(start, _)| start);
    parts.into_iter().flat_map(|(_, part)| part).collect()
}
