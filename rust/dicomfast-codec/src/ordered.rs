//! Frames decoded on several threads and written to a sink in frame order as they complete.
//!
//! Decoding a multi-frame file and then writing it leaves the cores idle during the write
//! (copying into the page cache: a third of a fast conversion). Here each worker, after
//! decoding a job (one frame, or a frame pair), writes every job that is now next in line;
//! only one worker writes at a time (the others go on decoding), so the write runs beside
//! the decoding on the same threads, with no thread added for it.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::Mutex;

const PENDING: u8 = 0;
const DONE: u8 = 1;
const FAILED: u8 = 2;

/// Why [`decode_and_write`] stopped: the first job that failed (its index and error), or
/// the sink.
#[derive(Debug)]
pub enum Stopped<E> {
    Job(usize, E),
    Io(io::Error),
}

struct Sink<'w, W> {
    sink: &'w mut W,
    /// The next job to write.
    next: usize,
    error: Option<io::Error>,
}

struct Shared<'a, 'w, W, F> {
    base: *mut u8,
    len: usize,
    job: usize,
    njobs: usize,
    claim: AtomicUsize,
    state: Vec<AtomicU8>,
    stop: AtomicBool,
    writer: Mutex<Sink<'w, W>>,
    work: &'a F,
}

// SAFETY: `base` is only turned into slices of disjoint jobs: job `j`'s bytes mutably by
// the one worker that claimed `j` (`claim` hands out each index once), and shared by the
// writer only after that worker published `state[j] = DONE` (SeqCst), never again mutably.
// The sink is reached only through the mutex.
unsafe impl<W: Send, F: Sync> Sync for Shared<'_, '_, W, F> {}

impl<W, F, E> Shared<'_, '_, W, F>
where
    W: Write + Send,
    F: Fn(usize, &mut [u8]) -> Result<(), E> + Sync,
{
    fn range(&self, j: usize) -> (usize, usize) {
        let start = j * self.job;
        (start, (start + self.job).min(self.len))
    }

    /// Decode jobs until none are left (or one failed, or the write did); failed jobs go
    /// to `errors` with their index.
    fn work(&self, errors: &Mutex<Vec<(usize, E)>>) {
        while !self.stop.load(SeqCst) {
            let j = self.claim.fetch_add(1, SeqCst);
            if j >= self.njobs {
                break;
            }
            let (s, e) = self.range(j);
            // SAFETY: see the `Sync` impl; `s..e` lies within the `len` bytes at `base`.
            let out = unsafe { std::slice::from_raw_parts_mut(self.base.add(s), e - s) };
            match (self.work)(j, out) {
                Ok(()) => self.state[j].store(DONE, SeqCst),
                Err(err) => {
                    if let Ok(mut v) = errors.lock() {
                        v.push((j, err));
                    }
                    self.state[j].store(FAILED, SeqCst);
                    self.stop.store(true, SeqCst);
                }
            }
            self.drain();
        }
        self.drain();
    }

    /// Write the jobs that are next in line and decoded, unless another worker is
    /// writing (it sees them; whatever it misses is written once the workers are done).
    fn drain(&self) {
        loop {
            let Ok(mut w) = self.writer.try_lock() else {
                return;
            };
            while w.error.is_none()
                && w.next < self.njobs
                && self.state[w.next].load(SeqCst) == DONE
            {
                let (s, e) = self.range(w.next);
                // SAFETY: see the `Sync` impl: job `next` is decoded and no longer written.
                let bytes = unsafe { std::slice::from_raw_parts(self.base.add(s), e - s) };
                if let Err(err) = w.sink.write_all(bytes) {
                    w.error = Some(err);
                    self.stop.store(true, SeqCst);
                    break;
                }
                w.next += 1;
            }
            let (next, failed) = (w.next, w.error.is_some());
            drop(w);
            if failed || next >= self.njobs || self.state[next].load(SeqCst) != DONE {
                return;
            }
        }
    }
}

/// Run `work(j, out_j)` for each job `j` (`out` split in `job`-byte chunks, the last one
/// possibly shorter) on `threads` threads (this one and `threads - 1` scoped ones), and
/// write `out` to `sink`, job by job in order, as the jobs complete. On success all of
/// `out` was written. A failed job stops the claiming of new ones; the failure of the
/// lowest job is returned, after the jobs before it were written.
pub fn decode_and_write<W, E, F>(
    out: &mut [u8],
    job: usize,
    threads: usize,
    sink: &mut W,
    work: F,
) -> Result<(), Stopped<E>>
where
    W: Write + Send,
    E: Send,
    F: Fn(usize, &mut [u8]) -> Result<(), E> + Sync,
{
    let job = job.max(1);
    let njobs = out.len().div_ceil(job);
    let shared = Shared {
        base: out.as_mut_ptr(),
        len: out.len(),
        job,
        njobs,
        claim: AtomicUsize::new(0),
        state: (0..njobs).map(|_| AtomicU8::new(PENDING)).collect(),
        stop: AtomicBool::new(false),
        writer: Mutex::new(Sink {
            sink,
            next: 0,
            error: None,
        }),
        work: &work,
    };
    let errors: Mutex<Vec<(usize, E)>> = Mutex::new(Vec::new());
    let helpers = threads.clamp(1, njobs.max(1)) - 1;
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|| shared.work(&errors));
        }
        shared.work(&errors);
    });
    shared.drain(); // what a worker's try_lock missed at the very end
    let mut errors = errors.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(first) = (0..errors.len()).min_by_key(|&i| errors[i].0) {
        let (j, err) = errors.swap_remove(first);
        return Err(Stopped::Job(j, err));
    }
    let w = shared
        .writer
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    match w.error {
        Some(err) => Err(Stopped::Io(err)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that fails after `room` bytes.
    struct Full {
        room: usize,
        got: Vec<u8>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.got.len() + buf.len() > self.room {
                return Err(io::Error::other("no space left"));
            }
            self.got.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writes_every_job_in_order_after_what_is_there() {
        for threads in [1, 2, 3, 8] {
            let mut sink = b"HEAD".to_vec();
            let mut out = vec![0u8; 1000 * 37 + 5];
            let r = decode_and_write(&mut out, 1000, threads, &mut sink, |j, o| {
                // Some jobs are slow, so that later ones finish first.
                if j % 3 == 0 {
                    std::thread::sleep(std::time::Duration::from_micros(300));
                }
                o.fill(j as u8 + 1);
                Ok::<(), ()>(())
            });
            assert!(r.is_ok());
            assert_eq!(sink.len(), 4 + out.len());
            assert_eq!(&sink[..4], b"HEAD");
            assert_eq!(&sink[4..], &out[..]);
            for (j, chunk) in out.chunks(1000).enumerate() {
                assert!(
                    chunk.iter().all(|&b| b == j as u8 + 1),
                    "job {j}, {threads} threads"
                );
            }
        }
    }

    #[test]
    fn reports_the_lowest_failed_job_and_writes_only_those_before_it() {
        for threads in [1, 2, 4] {
            let mut sink = Vec::new();
            let mut out = vec![0u8; 64 * 20];
            let r = decode_and_write(&mut out, 64, threads, &mut sink, |j, o| {
                o.fill(1);
                if j == 9 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                if j == 7 || j == 9 {
                    Err(format!("bad {j}"))
                } else {
                    Ok(())
                }
            });
            match r {
                Err(Stopped::Job(7, msg)) => assert_eq!(msg, "bad 7"),
                other => panic!("expected job 7 to be reported, got {other:?}"),
            }
            assert_eq!(sink.len(), 7 * 64, "{threads} threads");
        }
    }

    #[test]
    fn a_failed_write_stops_the_work_and_is_reported() {
        for threads in [1, 2] {
            let mut sink = Full {
                room: 3000,
                got: Vec::new(),
            };
            let mut out = vec![0u8; 1024 * 50];
            let done = AtomicUsize::new(0);
            let r = decode_and_write(&mut out, 1024, threads, &mut sink, |_, o| {
                o.fill(2);
                done.fetch_add(1, SeqCst);
                std::thread::sleep(std::time::Duration::from_micros(100));
                Ok::<(), ()>(())
            });
            assert!(matches!(r, Err(Stopped::Io(_))), "{threads} threads");
            assert_eq!(sink.got.len(), 2048);
            assert!(
                done.load(SeqCst) < 50,
                "decoding went on after the write failed"
            );
        }
    }
}
