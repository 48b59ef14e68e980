//! Jobs run on several threads, their results written to a sink in job order as they
//! complete.
//!
//! Coding the frames of a multi-frame file and then writing it leaves the cores idle during
//! the write (copying into the page cache: a third of a fast conversion). Here each worker,
//! after finishing a job (a frame, or a frame pair), writes every finished job that is next
//! in line; only one worker writes at a time (the others go on coding), so the write runs
//! beside the coding on the same threads, with no thread added for it.
//! [`run_in_order`] is the general form (each job makes a value); [`decode_and_write`]
//! has the jobs fill consecutive parts of one buffer.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};

/// Why a run stopped: the first job that failed (its index and error), or the sink.
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

struct Run<'w, T, E, W, F, G> {
    claim: AtomicUsize,
    results: Vec<OnceLock<T>>,
    stop: AtomicBool,
    writer: Mutex<Sink<'w, W>>,
    errors: Mutex<Vec<(usize, E)>>,
    work: F,
    emit: G,
}

impl<T, E, W, F, G> Run<'_, T, E, W, F, G>
where
    T: Send + Sync,
    E: Send,
    W: Write + Send,
    F: Fn(usize) -> Result<T, E> + Sync,
    G: Fn(&mut W, usize, &T) -> io::Result<()> + Sync,
{
    /// Run jobs until none are left (or one failed, or the write did).
    fn work(&self) {
        while !self.stop.load(SeqCst) {
            let j = self.claim.fetch_add(1, SeqCst);
            if j >= self.results.len() {
                break;
            }
            match (self.work)(j) {
                Ok(v) => {
                    // `claim` hands out each index once: the cell is empty.
                    let _ = self.results[j].set(v);
                }
                Err(err) => {
                    if let Ok(mut v) = self.errors.lock() {
                        v.push((j, err));
                    }
                    self.stop.store(true, SeqCst);
                }
            }
            self.drain();
        }
        self.drain();
    }

    /// Write the finished jobs that are next in line, unless another worker is writing
    /// (it sees them; whatever it misses is written once the workers are done).
    fn drain(&self) {
        loop {
            let Ok(mut guard) = self.writer.try_lock() else {
                return;
            };
            let w = &mut *guard;
            while w.error.is_none() {
                let Some(v) = self.results.get(w.next).and_then(OnceLock::get) else {
                    break;
                };
                if let Err(err) = (self.emit)(w.sink, w.next, v) {
                    w.error = Some(err);
                    self.stop.store(true, SeqCst);
                    break;
                }
                w.next += 1;
            }
            let (next, failed) = (w.next, w.error.is_some());
            drop(guard);
            let ready = self.results.get(next).is_some_and(|c| c.get().is_some());
            if failed || !ready {
                return;
            }
        }
    }
}

/// Run `work(j)` for each job `j < njobs` on `threads` threads (this one and
/// `threads - 1` scoped ones), and `emit(sink, j, &value)` each job's value in order as
/// the jobs complete; returns the values. A failed job stops the claiming of new ones; the
/// failure of the lowest job is returned, after the jobs before it were emitted.
pub fn run_in_order<T, E, W, F, G>(
    njobs: usize,
    threads: usize,
    sink: &mut W,
    work: F,
    emit: G,
) -> Result<Vec<T>, Stopped<E>>
where
    T: Send + Sync,
    E: Send,
    W: Write + Send,
    F: Fn(usize) -> Result<T, E> + Sync,
    G: Fn(&mut W, usize, &T) -> io::Result<()> + Sync,
{
    let run = Run {
        claim: AtomicUsize::new(0),
        results: (0..njobs).map(|_| OnceLock::new()).collect(),
        stop: AtomicBool::new(false),
        writer: Mutex::new(Sink {
            sink,
            next: 0,
            error: None,
        }),
        errors: Mutex::new(Vec::new()),
        work,
        emit,
    };
    let helpers = threads.clamp(1, njobs.max(1)) - 1;
    std::thread::scope(|scope| {
        for _ in 0..helpers {
            scope.spawn(|| run.work());
        }
        run.work();
    });
    run.drain(); // what a worker's try_lock missed at the very end
    let mut errors = run.errors.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(first) = (0..errors.len()).min_by_key(|&i| errors[i].0) {
        let (j, err) = errors.swap_remove(first);
        return Err(Stopped::Job(j, err));
    }
    let w = run.writer.into_inner().unwrap_or_else(|p| p.into_inner());
    if let Some(err) = w.error {
        return Err(Stopped::Io(err));
    }
    Ok(run
        .results
        .into_iter()
        .map(|c| c.into_inner().expect("every job ran"))
        .collect())
}

/// `out`'s address, shareable between the workers.
#[derive(Clone, Copy)]
struct Base(*mut u8);

// SAFETY: only turned into slices of disjoint jobs (see `decode_and_write`).
unsafe impl Send for Base {}
unsafe impl Sync for Base {}

impl Base {
    /// The address (a method: closures then capture the whole `Base`, which is `Sync`).
    fn at(self, offset: usize) -> *mut u8 {
        // SAFETY: callers pass offsets within `out`.
        unsafe { self.0.add(offset) }
    }
}

/// Run `work(j, out_j)` for each job `j` (`out` split in `job`-byte chunks, the last one
/// possibly shorter) on `threads` threads, and write `out` to `sink`, job by job in order,
/// as the jobs complete (see [`run_in_order`]). On success all of `out` was written.
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
    let len = out.len();
    let base = Base(out.as_mut_ptr());
    let range = move |j: usize| (j * job, ((j + 1) * job).min(len));
    run_in_order(
        len.div_ceil(job),
        threads,
        sink,
        |j| {
            let (s, e) = range(j);
            // SAFETY: `run_in_order` runs each job once, so job `j`'s bytes are written
            // only here; `emit` reads them only after this job's value was published.
            let o = unsafe { std::slice::from_raw_parts_mut(base.at(s), e - s) };
            work(j, o)
        },
        |sink, j, ()| {
            let (s, e) = range(j);
            // SAFETY: job `j` is done (its value is set), nothing writes its bytes again.
            sink.write_all(unsafe { std::slice::from_raw_parts(base.at(s), e - s) })
        },
    )
    .map(drop)
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
    fn values_are_emitted_in_order_and_returned() {
        for threads in [1, 2, 5] {
            let mut sink = Vec::new();
            let values = run_in_order(
                12,
                threads,
                &mut sink,
                |j| {
                    if j % 4 == 0 {
                        std::thread::sleep(std::time::Duration::from_micros(300));
                    }
                    Ok::<_, ()>(vec![j as u8; j + 1])
                },
                |sink: &mut Vec<u8>, j, v: &Vec<u8>| {
                    sink.push(0xF0 | j as u8);
                    sink.extend_from_slice(v);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(values.len(), 12);
            let mut want = Vec::new();
            for (j, v) in values.iter().enumerate() {
                assert_eq!(v, &vec![j as u8; j + 1]);
                want.push(0xF0 | j as u8);
                want.extend_from_slice(v);
            }
            assert_eq!(sink, want, "{threads} threads");
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
