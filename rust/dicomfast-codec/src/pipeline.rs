//! Frames decoded and encoded in parallel, whatever the codec: rayon pools by thread
//! count, every frame decoded straight into its part of one caller buffer, encoded frames
//! in reused buffers, encapsulated values built in place or written to a file in frame
//! order as the frames complete ([`crate::ordered`]).

use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;

use crate::codec::{Codec, EncodeParams};
use crate::encapsulation;
use crate::ordered::{self, Stopped};
use crate::{frame_size_bytes, native_frame_size_bytes, CodecError, FrameInfo};

/// Why a call failed: the whole message, the byte offset in the caller's source and the
/// (0-based) frame where there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub offset: Option<u64>,
    pub frame: Option<usize>,
}

impl Failure {
    fn call(message: String) -> Self {
        Failure {
            message,
            offset: None,
            frame: None,
        }
    }

    /// Frame `frame` failed with `message`; `offset` in the source.
    pub fn at_frame(frame: usize, message: impl std::fmt::Display, offset: Option<u64>) -> Self {
        let message = message.to_string();
        let mut full = format!("frame {frame}: {message}");
        if let (Some(o), true) = (offset, message.contains("offset")) {
            // dicomfast's errors only add "byte offset N" to messages that name no offset.
            full.push_str(&format!(" (byte offset {o} in the source)"));
        }
        Failure {
            message: full,
            offset,
            frame: Some(frame),
        }
    }

    fn codec(frame: usize, e: CodecError) -> Self {
        let offset = e.offset().map(|o| o as u64);
        Failure::at_frame(frame, e, offset)
    }
}

/// Rayon pools by thread count, built once each.
fn pool(threads: usize) -> Option<Arc<rayon::ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let mut pools = POOLS.get_or_init(Default::default).lock().ok()?;
    if let Some(p) = pools.get(&threads) {
        return Some(p.clone());
    }
    let p = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok()?,
    );
    pools.insert(threads, p.clone());
    Some(p)
}

/// Run `run` on the pool of `threads` threads (the global one for `None`).
fn install<R: Send>(threads: Option<usize>, run: impl FnOnce() -> R + Send) -> R {
    match threads.and_then(pool) {
        Some(p) => p.install(run),
        None => run(),
    }
}

/// The threads `threads` (None: rayon's default) stands for.
pub fn workers(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(rayon::current_num_threads).max(1)
}

/// Run `work(k, out_k)` for each frame `k` (`out` split in `fsize` chunks, the last one
/// possibly shorter), sequentially for one thread or one frame, else on rayon. Returns the
/// failure of the lowest frame.
fn for_each_frame<F>(
    out: &mut [u8],
    fsize: usize,
    threads: Option<usize>,
    work: F,
) -> Result<(), Failure>
where
    F: Fn(usize, &mut [u8]) -> Result<(), Failure> + Sync + Send,
{
    let nframes = out.len().div_ceil(fsize.max(1));
    let sequential = nframes <= 1
        || threads == Some(1)
        || rayon::current_num_threads() == 1 && threads.is_none();
    if sequential {
        let run = |out: &mut [u8]| -> Result<(), Failure> {
            for (k, o) in out.chunks_mut(fsize.max(1)).enumerate() {
                work(k, o)?;
            }
            Ok(())
        };
        // A lone frame with more than one thread allowed: a codec may split it over its own.
        return if nframes <= 1 && threads != Some(1) {
            crate::codec::with_inner_threads(|| run(out))
        } else {
            run(out)
        };
    }
    let first_failure = install(threads, move || {
        out.par_chunks_mut(fsize.max(1))
            .enumerate()
            .filter_map(|(k, o)| work(k, o).err())
            .min_by_key(|f| f.frame)
    });
    first_failure.map_or(Ok(()), Err)
}

/// Check that `out` holds `nframes` (or any whole number of) frames of `fsize` bytes;
/// the frame count.
fn check_out(out: &[u8], fsize: usize, nframes: Option<usize>) -> Result<usize, Failure> {
    let ok = match nframes {
        Some(n) => Some(out.len()) == n.checked_mul(fsize),
        None => out.len().is_multiple_of(fsize),
    };
    if !ok || out.is_empty() {
        return Err(Failure::call(format!(
            "output array has {} bytes, not a whole number ({}) of {fsize}-byte frames",
            out.len(),
            nframes.map_or("any".into(), |n| n.to_string())
        )));
    }
    Ok(out.len() / fsize)
}

/// Byte offset in the source of byte `at` of the frame's fragments laid end to end.
fn source_offset(fragments: &[(u64, u64)], at: usize) -> u64 {
    let mut rest = at as u64;
    for &(off, len) in fragments {
        if rest < len {
            return off + rest;
        }
        rest -= len;
    }
    fragments.last().map_or(at as u64, |&(o, l)| o + l)
}

/// Encapsulated frames to decode: `frames[k]` lists the `(offset, length)` of frame k's
/// fragment values in `source`; `first_frame` numbers them in errors.
pub struct Fragments<'a> {
    pub source: &'a [u8],
    pub frames: &'a [Vec<(u64, u64)>],
    pub first_frame: usize,
}

impl Fragments<'_> {
    /// The frame's data when it is one fragment within the source.
    fn one(&self, k: usize) -> Option<&[u8]> {
        match self.frames[k].as_slice() {
            [(off, len)] => self
                .source
                .get(usize::try_from(*off).ok()?..usize::try_from(off + len).ok()?),
            _ => None,
        }
    }

    /// Decode frame `k` into `out` (its fragments joined first when there are several).
    fn decode(
        &self,
        codec: &dyn Codec,
        info: &FrameInfo,
        k: usize,
        out: &mut [u8],
    ) -> Result<(), Failure> {
        let frame = self.first_frame + k;
        let fragments = &self.frames[k];
        let src = self.source;
        if fragments.is_empty() {
            return Err(Failure::at_frame(frame, "no fragments", None));
        }
        let mut parts: Vec<&[u8]> = Vec::with_capacity(fragments.len());
        for &(off, len) in fragments {
            match off.checked_add(len).filter(|&e| e <= src.len() as u64) {
                Some(end) => parts.push(&src[off as usize..end as usize]),
                None => {
                    return Err(Failure::at_frame(
                        frame,
                        format!(
                            "fragment of {len} bytes at byte {off} runs past the end of the \
                             data ({} bytes)",
                            src.len()
                        ),
                        Some(off),
                    ))
                }
            }
        }
        let joined;
        let data: &[u8] = if parts.len() == 1 {
            parts[0]
        } else {
            joined = parts.concat();
            &joined
        };
        codec.decode(data, info, out).map_err(|e| {
            let offset = e.offset().map(|o| source_offset(fragments, o));
            Failure::at_frame(frame, e, offset.or(Some(fragments[0].0)))
        })
    }

    /// Frames `k` and `k + 1` into `out` (two frames long, or one for the last of an odd
    /// count): together when the codec can ([`Codec::decode_pair`]), else one by one.
    fn decode_two(
        &self,
        codec: &dyn Codec,
        info: &FrameInfo,
        k: usize,
        out: &mut [u8],
    ) -> Result<(), Failure> {
        let fsize = frame_size_bytes(info);
        if out.len() < 2 * fsize || k + 1 >= self.frames.len() {
            return self.decode(codec, info, k, out);
        }
        let (out_a, out_b) = out.split_at_mut(fsize);
        if let (Some(a), Some(b)) = (self.one(k), self.one(k + 1)) {
            if codec.decode_pair(a, b, info, out_a, out_b) {
                return Ok(());
            }
        }
        self.decode(codec, info, k, out_a)?;
        self.decode(codec, info, k + 1, out_b)
    }
}

/// Decode every frame of `input` into `out` (frame k at bytes `k * frame_size ..`), in
/// parallel on `threads` threads; with `sink`, `out` is also written to it in frame order
/// as the frames complete.
pub fn decode_frames<W: Write + Send>(
    codec: &dyn Codec,
    input: &Fragments<'_>,
    info: &FrameInfo,
    out: &mut [u8],
    threads: Option<usize>,
    sink: Option<&mut W>,
) -> Result<(), Stopped<Failure>> {
    let fsize = frame_size_bytes(info);
    check_out(out, fsize, Some(input.frames.len())).map_err(|f| Stopped::Job(0, f))?;
    let workers = workers(threads);
    // Pairs only where every thread still gets one.
    let pairs = codec.decodes_pairs() && input.frames.len() >= 2 * workers;
    let job = if pairs { 2 * fsize } else { fsize };
    let work = |j: usize, o: &mut [u8]| {
        if pairs {
            input.decode_two(codec, info, 2 * j, o)
        } else {
            input.decode(codec, info, j, o)
        }
    };
    match sink {
        Some(sink) => ordered::decode_and_write(out, job, workers, sink, work),
        None => for_each_frame(out, job, threads, work).map_err(|f| Stopped::Job(0, f)),
    }
}

/// Native Pixel Data to unpack: the whole value, frames from `first_frame`; `ybr422`:
/// 8-bit YBR_FULL_422 stored two bytes per pixel, expanded to three samples.
pub struct Native<'a> {
    pub data: &'a [u8],
    pub first_frame: usize,
    pub ybr422: bool,
}

/// Unpack as many native frames as `out` holds, in parallel on `threads` threads.
pub fn decode_native_frames(
    input: &Native<'_>,
    info: &FrameInfo,
    out: &mut [u8],
    threads: Option<usize>,
) -> Result<(), Failure> {
    let fsize = frame_size_bytes(info);
    let nframes = check_out(out, fsize, None)?;
    let first = input.first_frame;
    let src = input.data;
    let pixels = u64::from(info.rows) * u64::from(info.columns);
    let frame_bits = if info.bits_allocated == 1 {
        pixels
    } else if input.ybr422 {
        pixels * 2 * 8
    } else {
        native_frame_size_bytes(info) as u64 * 8
    };
    let needed = frame_bits
        .saturating_mul((first + nframes) as u64)
        .div_ceil(8);
    let have = src.len() as u64;
    if needed > have {
        let last = (have * 8 / frame_bits.max(1)) as usize;
        return Err(Failure {
            message: format!(
                "native pixel data has {have} bytes, {} frames of {}x{}x{} at {} bits need \
                 {needed}",
                first + nframes,
                info.rows,
                info.columns,
                info.samples_per_pixel,
                info.bits_allocated
            ),
            offset: Some(have),
            frame: Some(last.max(first)),
        });
    }
    for_each_frame(out, fsize, threads, |k, o| {
        let frame = first + k;
        let bit = frame_bits as usize * frame;
        let r = if input.ybr422 {
            crate::expand_ybr_full_422(&src[bit / 8..], info, o)
        } else {
            crate::decode_native_frame_at_bit(src, bit, info, o)
        };
        r.map_err(|e| Failure::codec(frame, e))
    })
}

/// Buffers that encoded frames were written into, kept between calls: each frame is
/// encoded into one and copied out, so that encoding file after file reuses memory the
/// process has rather than faulting fresh pages in for every frame.
static FRAME_BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// At most this many bytes of capacity are kept in [`FRAME_BUFFERS`].
const KEEP_FRAME_BUFFERS: usize = 64 << 20;

/// `n` buffers for encoded frames, from the kept ones first.
fn take_frame_buffers(n: usize) -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(n);
    if let Ok(mut kept) = FRAME_BUFFERS.lock() {
        while out.len() < n {
            match kept.pop() {
                Some(b) => out.push(b),
                None => break,
            }
        }
    }
    out.resize_with(n, Vec::new);
    out
}

/// Keep `bufs` (from [`encode_frames`]) for later calls, up to [`KEEP_FRAME_BUFFERS`]
/// bytes in all.
pub fn keep_frame_buffers(bufs: Vec<Vec<u8>>) {
    if let Ok(mut kept) = FRAME_BUFFERS.lock() {
        let mut total: usize = kept.iter().map(Vec::capacity).sum();
        for b in bufs {
            if total + b.capacity() > KEEP_FRAME_BUFFERS {
                break;
            }
            total += b.capacity();
            kept.push(b);
        }
    }
}

/// Frames to encode: `data` holds whole frames in the output layout, back to back.
pub struct Frames<'a> {
    pub data: &'a [u8],
    pub info: FrameInfo,
    pub params: EncodeParams,
}

impl Frames<'_> {
    /// Check the layout and that `data` holds whole frames; the frame size and count.
    pub fn check(&self) -> Result<(usize, usize), Failure> {
        self.info
            .validate()
            .map_err(|e| Failure::call(e.to_string()))?;
        let fsize = frame_size_bytes(&self.info);
        if self.data.is_empty() || !self.data.len().is_multiple_of(fsize) {
            return Err(Failure::call(format!(
                "{} bytes of pixels are not a whole number of {fsize}-byte frames",
                self.data.len()
            )));
        }
        Ok((fsize, self.data.len() / fsize))
    }

    fn encode(
        &self,
        codec: &dyn Codec,
        fsize: usize,
        k: usize,
        b: &mut Vec<u8>,
    ) -> Result<usize, Failure> {
        let f = &self.data[k * fsize..(k + 1) * fsize];
        codec
            .encode_in(f, &self.info, &self.params, b)
            .map_err(|e| Failure::at_frame(k, e, None))
    }
}

/// Encode every frame, in parallel unless `threads` is 1: one buffer per frame, from the
/// reused ones (hand them back with [`keep_frame_buffers`]). The first failing frame is
/// the error.
pub fn encode_frames(
    codec: &dyn Codec,
    input: &Frames<'_>,
    threads: Option<usize>,
) -> Result<Vec<Vec<u8>>, Failure> {
    let (fsize, nframes) = input.check()?;
    let bufs = take_frame_buffers(nframes);
    let one = |(k, mut b): (usize, Vec<u8>)| {
        let n = input.encode(codec, fsize, k, &mut b)?;
        b.truncate(n);
        Ok(b)
    };
    if nframes <= 1 && threads != Some(1) {
        // A lone frame with more than one thread allowed: a codec may split it over its own.
        return crate::codec::with_inner_threads(|| {
            bufs.into_iter().enumerate().map(one).collect()
        });
    }
    if nframes <= 1 || threads == Some(1) {
        return bufs.into_iter().enumerate().map(one).collect();
    }
    install(threads, || {
        bufs.into_par_iter().enumerate().map(one).collect()
    })
}

/// Encoded frames laid out as one encapsulated Pixel Data value ([`encapsulation`]), to
/// be written into a buffer of [`Encapsulated::len`] bytes the caller allocates.
pub struct Encapsulated {
    frames: Vec<Vec<u8>>,
    offsets: Vec<u64>,
    total: u64,
}

impl Encapsulated {
    /// Encode every frame (as [`encode_frames`]) and lay the value out.
    pub fn encode(
        codec: &dyn Codec,
        input: &Frames<'_>,
        threads: Option<usize>,
    ) -> Result<Self, Failure> {
        let frames = encode_frames(codec, input, threads)?;
        let (offsets, total) = encapsulation::layout(frames.iter().map(Vec::len));
        if !encapsulation::addressable(total, frames.len()) {
            keep_frame_buffers(frames);
            return Err(Failure::call(TOO_LONG.into()));
        }
        Ok(Self {
            frames,
            offsets,
            total,
        })
    }

    /// The value's length in bytes.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Never: a value holds at least its offset table and delimiter.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Write the value into `out` (exactly [`Encapsulated::len`] bytes), the items in
    /// parallel unless `threads` is 1; the frame buffers are kept for later calls.
    pub fn write(self, out: &mut [u8], threads: Option<usize>) -> Result<(), Failure> {
        if out.len() as u64 != self.total {
            return Err(Failure::call(format!(
                "allocate({}) returned a buffer of {} bytes",
                self.total,
                out.len()
            )));
        }
        let parallel = self.frames.len() > 1 && threads != Some(1);
        encapsulation::write_value(&self.frames, &self.offsets, out, |items| {
            if parallel {
                install(threads, || {
                    items.into_par_iter().for_each(encapsulation::fill_item)
                });
            } else {
                items.into_iter().for_each(encapsulation::fill_item);
            }
        });
        keep_frame_buffers(self.frames);
        Ok(())
    }
}

const TOO_LONG: &str =
    "encapsulated frames exceed 4 GiB: the Basic Offset Table cannot address them";

/// Why [`encode_to_file`] stopped.
#[derive(Debug)]
pub enum EncodeStop {
    Failed(Failure),
    Io(std::io::Error),
}

impl From<std::io::Error> for EncodeStop {
    fn from(e: std::io::Error) -> Self {
        Self::Io(e)
    }
}

/// Encode every frame on `threads` threads and write the encapsulated value
/// [`Encapsulated`] makes to `file` from its current position: the Basic Offset
/// Table (zeros first, filled in at the end), each frame's item as soon as it and those
/// before it are encoded, the delimiter. The position ends after the value; returns its
/// length.
pub fn encode_to_file<W: Write + Seek + Send>(
    codec: &dyn Codec,
    input: &Frames<'_>,
    threads: Option<usize>,
    file: &mut W,
) -> Result<u64, EncodeStop> {
    let (fsize, nframes) = input.check().map_err(EncodeStop::Failed)?;
    let bufs: Vec<Mutex<Vec<u8>>> = take_frame_buffers(nframes)
        .into_iter()
        .map(Mutex::new)
        .collect();
    let start = file.stream_position()?;
    let mut head = encapsulation::item_header(4 * nframes as u32).to_vec();
    head.resize(8 + 4 * nframes, 0);
    file.write_all(&head)?;
    let frames = ordered::run_in_order(
        nframes,
        workers(threads),
        file,
        |j| {
            let mut b = bufs[j]
                .lock()
                .map(|mut g| std::mem::take(&mut *g))
                .unwrap_or_default();
            input.encode(codec, fsize, j, &mut b).map(|n| (b, n))
        },
        |file, _, (b, n): &(Vec<u8>, usize)| {
            let b = &b[..*n];
            let padded = b.len() + (b.len() & 1);
            let len = u32::try_from(padded)
                .map_err(|_| std::io::Error::other("an encoded frame exceeds 4 GiB"))?;
            file.write_all(&encapsulation::item_header(len))?;
            file.write_all(b)?;
            if padded > b.len() {
                file.write_all(&[0])?;
            }
            Ok(())
        },
    )
    .map_err(|s| match s {
        Stopped::Job(_, f) => EncodeStop::Failed(f),
        Stopped::Io(e) => EncodeStop::Io(e),
    })?;
    file.write_all(&encapsulation::delimiter())?;
    let (offsets, total) = encapsulation::layout(frames.iter().map(|(_, n)| *n));
    keep_frame_buffers(frames.into_iter().map(|(b, _)| b).collect());
    if !encapsulation::addressable(total, nframes) {
        return Err(EncodeStop::Failed(Failure::call(TOO_LONG.into())));
    }
    let end = file.stream_position()?;
    file.seek(SeekFrom::Start(start))?;
    file.write_all(&encapsulation::offset_table(&offsets))?;
    file.seek(SeekFrom::Start(end))?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_then_decode_through_the_registry() {
        let info = FrameInfo::new(7, 9, 3, 16);
        let n = frame_size_bytes(&info);
        let data: Vec<u8> = (0..3 * n).map(|i| (i * 7 % 251) as u8).collect();
        for t in crate::registry::TRANSFER_SYNTAXES
            .iter()
            .filter(|t| t.can_encode() && !t.lossy)
        {
            let codec = t.codec.unwrap();
            let input = Frames {
                data: &data,
                info,
                params: EncodeParams::default(),
            };
            let mut file = std::io::Cursor::new(Vec::new());
            let total = encode_to_file(codec, &input, Some(2), &mut file).unwrap();
            let file = file.into_inner();
            let encoded = Encapsulated::encode(codec, &input, Some(2)).unwrap();
            let mut value = vec![0u8; encoded.len() as usize];
            encoded.write(&mut value, Some(2)).unwrap();
            assert_eq!(file.len() as u64, total, "{}", t.uid);
            // Every encoder is deterministic: both ways give the same bytes.
            assert_eq!(file, value, "{}", t.uid);
            for encapsulated in [&value, &file] {
                let offsets: Vec<u32> = (0..3)
                    .map(|k| {
                        let at = 8 + 4 * k;
                        u32::from_le_bytes(encapsulated[at..at + 4].try_into().unwrap())
                    })
                    .collect();
                let base = 8 + 12;
                let frames: Vec<Vec<(u64, u64)>> = offsets
                    .iter()
                    .map(|&o| {
                        let at = base + o as usize;
                        let len =
                            u32::from_le_bytes(encapsulated[at + 4..at + 8].try_into().unwrap());
                        vec![(at as u64 + 8, u64::from(len))]
                    })
                    .collect();
                let mut out = vec![0u8; 3 * n];
                let input = Fragments {
                    source: encapsulated,
                    frames: &frames,
                    first_frame: 0,
                };
                decode_frames::<Vec<u8>>(codec, &input, &info, &mut out, Some(2), None).unwrap();
                assert_eq!(out, data, "{}", t.uid);
            }
        }
    }

    /// Records, in each output byte, whether the frame was decoded with inner threads
    /// allowed.
    struct Probe;

    impl Codec for Probe {
        fn name(&self) -> &'static str {
            "probe"
        }

        fn decode(&self, _: &[u8], _: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
            out.fill(u8::from(crate::codec::inner_threads_allowed()));
            Ok(())
        }
    }

    #[test]
    fn only_a_lone_frame_with_threads_to_spare_may_use_inner_threads() {
        let info = FrameInfo::new(2, 2, 1, 8);
        let source = [0u8; 8];
        for (nframes, threads, allowed) in [
            (1, None, 1),
            (1, Some(2), 1),
            (1, Some(1), 0),
            (3, Some(2), 0),
            (3, Some(1), 0),
        ] {
            let frames = vec![vec![(0u64, 4u64)]; nframes];
            let input = Fragments {
                source: &source,
                frames: &frames,
                first_frame: 0,
            };
            let mut out = vec![9u8; 4 * nframes];
            decode_frames::<Vec<u8>>(&Probe, &input, &info, &mut out, threads, None).unwrap();
            assert!(out.iter().all(|&b| b == allowed), "{nframes} {threads:?}");
        }
        assert!(!crate::codec::inner_threads_allowed());
    }
}
