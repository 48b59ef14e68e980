//! JPEG DCT-based processes (ITU-T T.81 / ISO 10918-1) through libjpeg-turbo 3 (crate
//! `turbojpeg-sys`, built from its bundled source, statically linked; feature `jpeg-dct`):
//! Baseline 8-bit (1.2.840.10008.1.2.4.50), Extended 12-bit (.51), and the retired Spectral
//! Selection (.53) and Full Progression (.55) syntaxes; 1 or 3 components, any sampling
//! factors, restart markers, Huffman or arithmetic coding.
//!
//! Colour: decoded samples are the stream's components as coded, chroma upsampled and no
//! colour transform applied (what pydicom 3 gives with `as_rgb=False`): a YBR_FULL_422
//! frame decodes to YCbCr, an RGB-coded stream (Adobe transform 0, or "RGB" component IDs)
//! to RGB. libjpeg-turbo only skips its YCbCr -> RGB step for streams it takes for RGB, so
//! a three-component stream is handed to it with its JFIF/Adobe markers replaced by an
//! Adobe marker saying "transform 0" (a copy of the marker segments before the first SOS;
//! the entropy-coded data is not copied twice).
//!
//! An 8-bit sequential frame, grey or of three components in one interleaved scan (4:4:4,
//! 4:2:2, 4:2:0), is entropy-decoded by our own decoder (`huffman8`: up to two Huffman
//! symbols, code and value bits, per table lookup) into libjpeg-turbo's own AVX2 inverse
//! DCT, written straight into the output rows (grey) or into planes then upsampled as
//! libjpeg-turbo does (colour): libjpeg-turbo's samples, without its decompressor. What
//! libjpeg-turbo would warn of or refuse is left to it.
//!
//! Encoding: lossy baseline (8-bit) or extended (12-bit) sequential Huffman coding with a
//! quality setting; three-sample frames either as given (no transform, 4:4:4) or, asked
//! with [`EncodeParams::colour_transform`], RGB converted to YCbCr 4:2:2. A lone 8-bit
//! frame with threads to spare is encoded in bands on all of them, joined with restart
//! markers (`stripes`): the same samples once decoded. A lone frame whose restart
//! intervals hold whole MCU rows (such a frame, or another encoder's) is decoded in bands
//! on all of them (`restarts`).

use std::cell::RefCell;
use std::ffi::{c_int, CStr};

use turbojpeg_sys as tj;

mod grey12;
mod header;
mod huffman8;
mod idct12;
mod preflight;
#[cfg(feature = "parallel")]
mod restarts;
#[cfg(feature = "parallel")]
mod stripes;

use crate::codec::{Codec, EncodeParams};
use crate::convert::fix_unused_bits;
use crate::registry::TransferSyntax;
use crate::{CodecError, FrameInfo};
use grey12::Outcome;

const NAME: &str = "JPEG";
const BASELINE: &str = "1.2.840.10008.1.2.4.50";
const EXTENDED: &str = "1.2.840.10008.1.2.4.51";
/// The bindings pass the quality and mark lossy results (PS3.3 C.7.6.1.1.5).
const ENCODES: bool = true;

/// `f` on every band, each on a thread of its own: the first on this one at once, the
/// others spawned onto the pool (only they need waking; a parallel iterator called from
/// outside the pool waits for its workers to wake, which on a VM can cost as much as a
/// band). The results in band order.
#[cfg(feature = "parallel")]
fn on_every_core<B: Send, R: Send>(bands: Vec<B>, f: impl Fn(B) -> R + Sync) -> Vec<R> {
    let mut done: Vec<Option<R>> = bands.iter().map(|_| None).collect();
    let mut bands = bands.into_iter();
    if let (Some(first), Some((slot0, slots))) = (bands.next(), done.split_first_mut()) {
        let f = &f;
        rayon::in_place_scope(|s| {
            for (slot, b) in slots.iter_mut().zip(bands) {
                s.spawn(move |_| *slot = Some(f(b)));
            }
            *slot0 = Some(f(first));
        });
    }
    done.into_iter()
        .map(|r| r.expect("every band ran"))
        .collect()
}

/// A TurboJPEG instance, one per thread and direction.
struct Handle(tj::tjhandle);

impl Handle {
    fn new(kind: tj::TJINIT) -> Option<Handle> {
        // SAFETY: tj3Init has no preconditions; a null return is checked.
        let h = unsafe { tj::tj3Init(kind as c_int) };
        (!h.is_null()).then_some(Handle(h))
    }

    fn set(&self, param: tj::TJPARAM, value: c_int) -> bool {
        // SAFETY: the handle is live; unknown parameters return -1.
        unsafe { tj::tj3Set(self.0, param as c_int, value) == 0 }
    }

    fn get(&self, param: tj::TJPARAM) -> c_int {
        // SAFETY: as above.
        unsafe { tj::tj3Get(self.0, param as c_int) }
    }

    fn error(&self) -> String {
        // SAFETY: tj3GetErrorStr returns a NUL-terminated string owned by the handle.
        unsafe {
            let p = tj::tj3GetErrorStr(self.0);
            if p.is_null() {
                "unknown error".into()
            } else {
                CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: created by tj3Init, destroyed once.
        unsafe { tj::tj3Destroy(self.0) }
    }
}

thread_local! {
    static DECODER: RefCell<Option<Handle>> = const { RefCell::new(None) };
    static ENCODER: RefCell<Option<Handle>> = const { RefCell::new(None) };
    /// The three-component stream with its colour markers rewritten, and 12-bit samples.
    static SCRATCH: RefCell<(Vec<u8>, Vec<i16>)> = const { RefCell::new((Vec::new(), Vec::new())) };
    /// An RGB frame's samples as three planes, for encoding.
    static PLANES: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `f` on this thread's handle in `cell` (made when there is none, or anew when `fresh`).
fn with_handle<R>(
    cell: &'static std::thread::LocalKey<RefCell<Option<Handle>>>,
    kind: tj::TJINIT,
    fresh: bool,
    f: impl FnOnce(&Handle) -> Result<R, CodecError>,
) -> Result<R, CodecError> {
    cell.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() || fresh {
            *c = Handle::new(kind);
        }
        let result = match c.as_ref() {
            Some(h) => f(h),
            None => Err(CodecError::Encoder {
                codec: NAME,
                message: "libjpeg-turbo could not be initialised".into(),
            }),
        };
        if result.is_err() {
            // A failed image can leave state in the handle that the next one trips on
            // (a damaged stream's Huffman table made every later frame on this thread
            // "Bogus Huffman table definition"): a new handle for the next.
            *c = None;
        }
        result
    })
}

fn format_error(offset: usize, reason: &'static str) -> CodecError {
    CodecError::JpegFormat { offset, reason }
}

/// `src` with the APP0 "JFIF" and APP14 "Adobe" segments before the first SOS replaced by one
/// Adobe segment with transform 0, so that libjpeg-turbo leaves the components as coded.
fn untransformed(src: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
    out.clear();
    if src.len() < 4 || src[0] != 0xFF || src[1] != 0xD8 {
        return Err(format_error(
            0,
            "the frame does not start with an SOI marker",
        ));
    }
    out.reserve(src.len() + 16);
    out.extend_from_slice(&[0xFF, 0xD8]);
    // APP14: "Adobe", version 100, flags0 0, flags1 0, transform 0.
    out.extend_from_slice(&[
        0xFF, 0xEE, 0x00, 0x0E, b'A', b'd', b'o', b'b', b'e', 0x00, 0x64, 0, 0, 0, 0, 0,
    ]);
    let mut i = 2;
    loop {
        // Fill bytes (0xFF runs) may precede a marker (B.1.1.2).
        while i + 1 < src.len() && src[i] == 0xFF && src[i + 1] == 0xFF {
            i += 1;
        }
        if i + 4 > src.len() {
            return Err(CodecError::Truncated {
                offset: src.len(),
                needed: i + 4,
            });
        }
        if src[i] != 0xFF {
            return Err(format_error(i, "expected a marker before the first scan"));
        }
        let marker = src[i + 1];
        if marker == 0xDA || marker == 0xD9 {
            out.extend_from_slice(&src[i..]);
            return Ok(());
        }
        let len = usize::from(u16::from_be_bytes([src[i + 2], src[i + 3]]));
        if len < 2 || i + 2 + len > src.len() {
            return Err(format_error(
                i + 2,
                "marker segment length runs past the data",
            ));
        }
        let body = &src[i + 4..i + 2 + len];
        let colour_marker = (marker == 0xE0 && body.starts_with(b"JFIF\0"))
            || (marker == 0xEE && body.starts_with(b"Adobe"));
        if !colour_marker {
            out.extend_from_slice(&src[i..i + 2 + len]);
        }
        i += 2 + len;
    }
}

/// The one libjpeg-turbo warning that leaves the image whole and hides no other: stray
/// bytes before EOI, after the last of the coded data (an encoder's padding). It comes
/// after every sample is decoded, and libjpeg-turbo reports an image's first warning
/// only, so when it is the one reported it was the only one. Any other warning is an
/// error: stray bytes before a restart marker or another scan may be followed by a cut
/// that the first warning would hide, and corrupt or missing data leaves samples
/// invented. (Sequential scans with Se 0 are rewritten before decoding: `preflight`.)
fn harmless_warning(message: &str) -> bool {
    message.starts_with("Corrupt JPEG data: ")
        && message.ends_with(" extraneous bytes before marker 0xd9")
}

fn decode(data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
    decode_as(data, info, out, true)
}

/// How the second and third components of a three-component frame are sampled, for
/// [`decode_planes`].
#[derive(Clone, Copy, PartialEq, Debug)]
enum Chroma {
    /// 4:4:4, none subsampled.
    Full,
    /// 4:2:2, halved across.
    Across,
    /// 4:2:0, halved across and down.
    Both,
}

impl Chroma {
    /// The sampling of libjpeg-turbo's TJSAMP `subsamp`, where [`decode_planes`] takes it.
    fn of(subsamp: c_int) -> Option<Chroma> {
        match subsamp as tj::TJSAMP {
            tj::TJSAMP_TJSAMP_444 => Some(Chroma::Full),
            tj::TJSAMP_TJSAMP_422 => Some(Chroma::Across),
            tj::TJSAMP_TJSAMP_420 => Some(Chroma::Both),
            _ => None,
        }
    }

    fn subsamp(self) -> c_int {
        (match self {
            Chroma::Full => tj::TJSAMP_TJSAMP_444,
            Chroma::Across => tj::TJSAMP_TJSAMP_422,
            Chroma::Both => tj::TJSAMP_TJSAMP_420,
        }) as c_int
    }
}

/// An 8-bit frame of three components, none subsampled, or the second and third halved
/// across (4:2:2) or across and down (4:2:0), decoded as planes (its header read and
/// checked against `info`) into a thread's scratch planes, then interleaved into `out`
/// (subsampled chroma upsampled row by row as libjpeg-turbo upsamples it,
/// [`upsample_h2v1`], [`upsample_h2v2`]). libjpeg-turbo's return code.
fn decode_planes(
    h: &Handle,
    src: &[u8],
    info: &FrameInfo,
    out: &mut [u8],
    chroma: Chroma,
) -> c_int {
    let (w, rows) = (info.columns as usize, info.rows as usize);
    let subsamp = chroma.subsamp();
    // Each plane's width and height as libjpeg-turbo writes it (4:2:2 and 4:2:0: the
    // first component's rows padded to an even width, the others' halved; 4:2:0: the
    // first's height padded to an even number of rows, the others' halved).
    // SAFETY: no preconditions; -1 for arguments out of range, refused below.
    let size = |c: c_int| unsafe {
        let pw = tj::tj3YUVPlaneWidth(c, w as c_int, subsamp);
        let ph = tj::tj3YUVPlaneHeight(c, rows as c_int, subsamp);
        (usize::try_from(pw).ok(), usize::try_from(ph).ok())
    };
    let (Some(yw), Some(yh)) = size(0) else {
        return -1;
    };
    let (Some(cw), Some(ch)) = size(1) else {
        return -1;
    };
    let (cw_min, ch_min) = match chroma {
        Chroma::Full => (w, rows),
        Chroma::Across => (w.div_ceil(2), rows),
        Chroma::Both => (w.div_ceil(2), rows.div_ceil(2)),
    };
    if yw < w || yh < rows || ch < ch_min || cw < cw_min || ch == 0 {
        return -1;
    }
    let mut strides = [yw as c_int, cw as c_int, cw as c_int];
    PLANES.with(|planes| {
        let mut planes = planes.borrow_mut();
        let (n, cn) = (yw * yh, cw * ch);
        // per component: 2 * cw upsampled samples, then two rows of cw + 2 staged
        let scratch = 4 * cw + 4;
        planes.resize(n + 2 * cn + 2 * scratch, 0);
        let (y, rest) = planes.split_at_mut(n);
        let (cb, rest) = rest.split_at_mut(cn);
        let (cr, rest) = rest.split_at_mut(cn);
        let mut ptrs = [y.as_mut_ptr(), cb.as_mut_ptr(), cr.as_mut_ptr()];
        // SAFETY: the stream's size is the frame's and its sampling `chroma` (checked
        // by the caller), so libjpeg-turbo writes each plane's height of lines of its
        // width at that stride (tj3YUVPlaneWidth/Height): the planes' sizes.
        let rc = unsafe {
            tj::tj3DecompressToYUVPlanes8(
                h.0,
                src.as_ptr(),
                src.len() as tj::size_t,
                ptrs.as_mut_ptr(),
                strides.as_mut_ptr(),
            )
        };
        let (ub, ur) = rest.split_at_mut(scratch);
        let planes = PlaneRows {
            y,
            y_stride: yw,
            y_ring: yh,
            cb,
            cr,
            c_stride: cw,
            c_ring: ch,
            c_width: cw,
            c_rows: ch_min,
        };
        planes.interleave(chroma, w, out, 0..rows, ub, ur);
        rc
    })
}

/// A three-component frame's planes as decoded (before upsampling): the first
/// component's rows `y_stride` apart, the others' `c_stride` apart, `c_width` samples and
/// `c_rows` rows of each of them the frame's; row `r` of a plane at row `r % ring` of its
/// buffer (`y_ring`, `c_ring`: a window of the rows decoded last, or the whole plane).
struct PlaneRows<'a> {
    y: &'a [u8],
    y_stride: usize,
    y_ring: usize,
    cb: &'a [u8],
    cr: &'a [u8],
    c_stride: usize,
    c_ring: usize,
    c_width: usize,
    c_rows: usize,
}

impl PlaneRows<'_> {
    /// Chroma row `r` of `plane`.
    fn crow<'p>(&self, plane: &'p [u8], r: usize) -> &'p [u8] {
        let at = (r % self.c_ring) * self.c_stride;
        &plane[at..at + self.c_width]
    }

    /// The frame's pixels (`w` across), rows `rows`, into `out`: chroma sampled as `chroma` upsampled
    /// row by row as libjpeg-turbo upsamples it ([`upsample_h2v1`], [`upsample_h2v2`]),
    /// through `ub` and `ur` (4 * c_width + 4 bytes each).
    fn interleave(
        &self,
        chroma: Chroma,
        w: usize,
        out: &mut [u8],
        rows: std::ops::Range<usize>,
        ub: &mut [u8],
        ur: &mut [u8],
    ) {
        let (cb, cr) = (self.cb, self.cr);
        let first = rows.start;
        let out = &mut out[3 * w * rows.start..3 * w * rows.end];
        for (k, orow) in out.chunks_exact_mut(3 * w).enumerate() {
            let k = first + k;
            let at = (k % self.y_ring) * self.y_stride;
            let yr = &self.y[at..at + w];
            match chroma {
                Chroma::Full => {
                    interleave3(yr, &self.crow(cb, k)[..w], &self.crow(cr, k)[..w], orow)
                }
                Chroma::Across => {
                    upsample_h2v1(self.crow(cb, k), ub);
                    upsample_h2v1(self.crow(cr, k), ur);
                    interleave3(yr, &ub[..w], &ur[..w], orow);
                }
                Chroma::Both => {
                    // the nearer chroma row, and the further one (above for an even
                    // row, below for an odd one; the edge rows repeated)
                    let near = k / 2;
                    let far = if k & 1 == 0 {
                        near.saturating_sub(1)
                    } else {
                        (near + 1).min(self.c_rows - 1)
                    };
                    upsample_h2v2(self.crow(cb, near), self.crow(cb, far), ub);
                    upsample_h2v2(self.crow(cr, near), self.crow(cr, far), ur);
                    interleave3(yr, &ub[..w], &ur[..w], orow);
                }
            }
        }
    }
}

/// A three-component 8-bit frame by our entropy decoder ([`huffman8::decode_colour`]),
/// its planes interleaved as [`decode_planes`] interleaves libjpeg-turbo's, each row as
/// soon as the rows of the planes it needs are decoded; false when that decoder leaves
/// it to libjpeg-turbo.
fn decode_colour(src: &[u8], info: &FrameInfo, out: &mut [u8]) -> bool {
    let (w, rows) = (info.columns as usize, info.rows as usize);
    PLANES.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let mut done = 0;
        huffman8::decode_colour(src, w, rows, |p| {
            let (hs, vs) = p.sampling;
            let chroma = match p.sampling {
                (1, 1) => Chroma::Full,
                (2, 1) => Chroma::Across,
                _ => Chroma::Both,
            };
            let c_rows = rows.div_ceil(vs);
            let planes = PlaneRows {
                y: p.planes[0],
                y_stride: p.strides[0],
                y_ring: p.ring[0],
                cb: p.planes[1],
                cr: p.planes[2],
                c_stride: p.strides[1],
                c_ring: p.ring[1],
                c_width: w.div_ceil(hs),
                c_rows,
            };
            // The rows whose luma and chroma rows (4:2:0: the nearer and the further, the
            // edge repeated) are decoded.
            let c_ready = p.rows[1].min(c_rows);
            let ready = if c_ready == c_rows {
                rows
            } else if vs == 2 {
                (2 * c_ready).saturating_sub(2)
            } else {
                c_ready
            }
            .min(p.rows[0]);
            if ready > done {
                let cw = planes.c_width;
                scratch.resize(2 * (4 * cw + 4), 0);
                let (ub, ur) = scratch.split_at_mut(4 * cw + 4);
                planes.interleave(chroma, w, out, done..ready, ub, ur);
                done = ready;
            }
        })
        .is_some()
            && done == rows
    })
}

/// A row of chroma samples doubled across and down as libjpeg-turbo's upsampler doubles
/// them (jdsample.c): "fancy" (triangle) upsampling, first down, each column 3/4 of the
/// `near` row and 1/4 of the `far` one (sums kept at 4x), then across as
/// [`upsample_h2v1`], rounding alternately down and up (+8 and +7 before /16), the edge
/// columns kept; rows of 2 samples or fewer doubled plainly (the near row only). `out`
/// holds 4 * len + 4 bytes: the result's 2 * len, then the two rows staged with their
/// edges repeated.
fn upsample_h2v2(near: &[u8], far: &[u8], out: &mut [u8]) {
    let n = near.len();
    if n <= 2 {
        return double_plainly(near, out);
    }
    // c[i] = 3 near[i] + far[i], c[-1] = c[0], c[n] = c[n-1];
    // out[2i] = (3 c[i] + c[i-1] + 8) >> 4, out[2i+1] = (3 c[i] + c[i+1] + 7) >> 4.
    let (dst, staged) = out.split_at_mut(2 * n);
    let (pn, pf) = staged[..2 * n + 4].split_at_mut(n + 2);
    pad_edges(near, pn);
    pad_edges(far, pf);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of x86_64.
    let done = unsafe { upsample_h2v2_sse2(pn, pf, dst) };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    let c = |j: usize| 3 * u16::from(pn[j]) + u16::from(pf[j]);
    for i in done..n {
        let a = 3 * c(i + 1);
        dst[2 * i] = ((a + c(i) + 8) >> 4) as u8;
        dst[2 * i + 1] = ((a + c(i + 2) + 7) >> 4) as u8;
    }
}

/// [`upsample_h2v2`]'s general case, 16 inputs at a time; how many inputs it did.
/// `pn` and `pf` are the near and far rows with their edge samples repeated (n + 2
/// bytes each), `dst` 2n bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
unsafe fn upsample_h2v2_sse2(pn: &[u8], pf: &[u8], dst: &mut [u8]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_add_epi16, _mm_loadu_si128, _mm_set1_epi16, _mm_srli_epi16,
    };
    let n = pn.len() - 2;
    let blocks = (n / 16)
        .min(pf.len().saturating_sub(2) / 16)
        .min(dst.len() / 32);
    let (seven, eight) = (_mm_set1_epi16(7), _mm_set1_epi16(8));
    let times3 = |v: __m128i| _mm_add_epi16(_mm_add_epi16(v, v), v);
    for i in 0..blocks {
        // SAFETY: bytes 16i .. 16i + 18 of `pn` and `pf` and 32i .. 32i + 32 of `dst`
        // lie within them (i < blocks).
        let (an, af) = (pn.as_ptr().add(16 * i), pf.as_ptr().add(16 * i));
        let load = |p: *const u8, k: usize| _mm_loadu_si128(p.add(k).cast());
        let (n0, n1, n2) = (load(an, 0), load(an, 1), load(an, 2));
        let (f0, f1, f2) = (load(af, 0), load(af, 1), load(af, 2));
        let half = |lo: bool| {
            let widen = |v| widen_half(v, lo);
            let sum = |nv, fv| _mm_add_epi16(times3(widen(nv)), widen(fv));
            let (prev, cur, next) = (sum(n0, f0), sum(n1, f1), sum(n2, f2));
            let c3 = times3(cur);
            let even = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, prev), eight), 4);
            let odd = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, next), seven), 4);
            (even, odd)
        };
        store_pairs(dst.as_mut_ptr().add(32 * i), half(true), half(false));
    }
    blocks * 16
}

/// Each sample of `row` twice (libjpeg-turbo's upsampling of rows of 2 samples or fewer).
fn double_plainly(row: &[u8], out: &mut [u8]) {
    for (pair, &v) in out.chunks_exact_mut(2).zip(row) {
        pair.fill(v);
    }
}

/// `row` into `padded` (2 bytes longer) with its first and last samples repeated before
/// and after it.
fn pad_edges(row: &[u8], padded: &mut [u8]) {
    let n = row.len();
    padded[0] = row[0];
    padded[1..=n].copy_from_slice(row);
    padded[n + 1] = row[n - 1];
}

/// The low (`lo`) or high eight bytes of `v` as 16-bit values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn widen_half(v: std::arch::x86_64::__m128i, lo: bool) -> std::arch::x86_64::__m128i {
    use std::arch::x86_64::{_mm_setzero_si128, _mm_unpackhi_epi8, _mm_unpacklo_epi8};
    let zero = _mm_setzero_si128();
    if lo {
        _mm_unpacklo_epi8(v, zero)
    } else {
        _mm_unpackhi_epi8(v, zero)
    }
}

/// Stores the 16 even and 16 odd outputs of an upsampler block (each as two halves of
/// eight 16-bit values) interleaved at `o` (32 bytes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
unsafe fn store_pairs(
    o: *mut u8,
    (e_lo, o_lo): (std::arch::x86_64::__m128i, std::arch::x86_64::__m128i),
    (e_hi, o_hi): (std::arch::x86_64::__m128i, std::arch::x86_64::__m128i),
) {
    use std::arch::x86_64::{
        _mm_packus_epi16, _mm_storeu_si128, _mm_unpackhi_epi8, _mm_unpacklo_epi8,
    };
    let even = _mm_packus_epi16(e_lo, e_hi);
    let odd = _mm_packus_epi16(o_lo, o_hi);
    // SAFETY: the caller's: 32 bytes at `o` are writable.
    _mm_storeu_si128(o.cast(), _mm_unpacklo_epi8(even, odd));
    _mm_storeu_si128(o.add(16).cast(), _mm_unpackhi_epi8(even, odd));
}

/// A row of chroma samples doubled across as libjpeg-turbo's upsampler doubles them
/// (jdsample.c): "fancy" (triangle) upsampling, each output 3/4 of the nearer input and
/// 1/4 of the further, rounding alternately down and up, the edge samples kept; plain
/// doubling for rows of 2 samples or fewer. `out` holds 3 * len + 2 bytes: the input
/// with its edges repeated is staged after the 2 * len of the result.
fn upsample_h2v1(row: &[u8], out: &mut [u8]) {
    let n = row.len();
    if n <= 2 {
        return double_plainly(row, out);
    }
    // out[2i] = (3 in[i] + in[i-1] + 1) >> 2, out[2i+1] = (3 in[i] + in[i+1] + 2) >> 2,
    // with in[-1] = in[0] and in[n] = in[n-1]: then out[0] = in[0], out[2n-1] = in[n-1].
    let (dst, staged) = out.split_at_mut(2 * n);
    let padded = &mut staged[..n + 2];
    pad_edges(row, padded);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE2 is part of x86_64.
    let done = unsafe { upsample_h2v1_sse2(padded, dst) };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    for i in done..n {
        let a = 3 * u16::from(padded[i + 1]);
        dst[2 * i] = ((a + u16::from(padded[i]) + 1) >> 2) as u8;
        dst[2 * i + 1] = ((a + u16::from(padded[i + 2]) + 2) >> 2) as u8;
    }
}

/// [`upsample_h2v1`]'s general case, 16 inputs at a time; how many inputs it did.
/// `padded` is the row with its edge samples repeated (n + 2 bytes), `dst` 2n bytes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
unsafe fn upsample_h2v1_sse2(padded: &[u8], dst: &mut [u8]) -> usize {
    use std::arch::x86_64::{_mm_add_epi16, _mm_loadu_si128, _mm_set1_epi16, _mm_srli_epi16};
    let n = padded.len() - 2;
    let blocks = (n / 16).min(dst.len() / 32);
    let (one, two) = (_mm_set1_epi16(1), _mm_set1_epi16(2));
    for i in 0..blocks {
        // SAFETY: bytes 16i .. 16i + 18 of `padded` and 32i .. 32i + 32 of `dst` lie
        // within them (i < n / 16, i < dst.len() / 32).
        let at = padded.as_ptr().add(16 * i);
        let prev = _mm_loadu_si128(at.cast());
        let cur = _mm_loadu_si128(at.add(1).cast());
        let next = _mm_loadu_si128(at.add(2).cast());
        let half = |lo: bool| {
            let widen = |v| widen_half(v, lo);
            let c = widen(cur);
            let c3 = _mm_add_epi16(_mm_add_epi16(c, c), c);
            let even = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, widen(prev)), one), 2);
            let odd = _mm_srli_epi16(_mm_add_epi16(_mm_add_epi16(c3, widen(next)), two), 2);
            (even, odd)
        };
        store_pairs(dst.as_mut_ptr().add(32 * i), half(true), half(false));
    }
    blocks * 16
}

/// [`decode`], 8-bit unsubsampled three-component frames from libjpeg-turbo as planes
/// when `raw`, else as pixels (the tests check the two give the same samples).
fn decode_as(data: &[u8], info: &FrameInfo, out: &mut [u8], raw: bool) -> Result<(), CodecError> {
    info.check_output(out)?;
    let samples = usize::from(info.samples_per_pixel);
    if samples != 1 && samples != 3 {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG frames have 1 or 3 samples per pixel",
        });
    }
    if !matches!(info.bits_allocated, 8 | 16) || info.float {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG frames have 8 or 16 bits allocated",
        });
    }
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let (stream, wide) = &mut *scratch;
        let mut copied = samples == 3;
        if copied {
            untransformed(data, stream)?;
        }
        let pre = preflight::read(if copied { stream } else { data });
        if let Some(at) = pre.odd_selection_at {
            // A sequential scan as libjpeg-turbo reads it, without the warning that
            // would hide any later one (`preflight`).
            if !copied {
                stream.clear();
                stream.extend_from_slice(data);
                copied = true;
            }
            stream[at..at + 3].copy_from_slice(&[0, 63, 0]);
        }
        let src: &[u8] = if copied { stream } else { data };
        // An 8-bit frame by our entropy decoder and libjpeg-turbo's inverse DCT
        // (`huffman8`), when it takes it: the same samples, without a decompressor.
        if info.bits_allocated == 8
            && if samples == 1 {
                huffman8::decode(src, info.columns as usize, info.rows as usize, out)
            } else {
                raw && decode_colour(src, info, out)
            }
        {
            return Ok(());
        }
        // A stream without its own tables must not find the last frame's (`preflight`).
        with_handle(
            &DECODER,
            tj::TJINIT_TJINIT_DECOMPRESS,
            !pre.own_tables,
            |h| {
                let lib_error = |h: &Handle| CodecError::Codestream {
                    codec: NAME,
                    offset: 0,
                    message: h.error(),
                };
                h.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 0);
                // Bound the work before anything is decoded: the frame the data set describes.
                h.set(
                    tj::TJPARAM_TJPARAM_MAXPIXELS,
                    c_int::try_from(info.pixels()).unwrap_or(c_int::MAX),
                );
                h.set(tj::TJPARAM_TJPARAM_MAXMEMORY, 2048);
                // SAFETY: src is a live slice; the handle is a decompressor.
                if unsafe { tj::tj3DecompressHeader(h.0, src.as_ptr(), src.len() as tj::size_t) }
                    != 0
                {
                    return Err(lib_error(h));
                }
                let width = h.get(tj::TJPARAM_TJPARAM_JPEGWIDTH);
                let height = h.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT);
                let precision = h.get(tj::TJPARAM_TJPARAM_PRECISION);
                let colorspace = h.get(tj::TJPARAM_TJPARAM_COLORSPACE);
                if h.get(tj::TJPARAM_TJPARAM_LOSSLESS) == 1 {
                    return Err(CodecError::JpegUnsupported {
                        offset: 0,
                        marker: 0xC3,
                        reason: "a lossless (process 14) stream in a DCT-based transfer syntax",
                    });
                }
                let mismatch = |what, stream: c_int, dataset: u32| CodecError::Mismatch {
                    offset: 0,
                    what,
                    stream: stream.max(0) as u32,
                    dataset,
                };
                if width != info.columns as c_int {
                    return Err(mismatch("the number of columns", width, info.columns));
                }
                if height != info.rows as c_int {
                    return Err(mismatch("the number of rows", height, info.rows));
                }
                let components = match colorspace as u32 {
                    tj::TJCS_TJCS_GRAY => 1,
                    tj::TJCS_TJCS_RGB | tj::TJCS_TJCS_YCbCr => 3,
                    _ => 4,
                };
                if components != samples {
                    return Err(mismatch(
                        "the number of components",
                        components as c_int,
                        u32::from(info.samples_per_pixel),
                    ));
                }
                let pf = if samples == 1 {
                    tj::TJPF_TJPF_GRAY
                } else {
                    tj::TJPF_TJPF_RGB
                } as c_int;
                let pitch = (info.columns as usize * samples) as c_int;
                let n = info.samples();
                // Three components, 4:4:4, 4:2:2 or 4:2:0: the components as planes
                // (libjpeg's raw data output), without libjpeg-turbo's colour
                // "conversion" pass (a copy of every sample; 5% of a 756x486 RGB
                // frame's decode, 15% of a 4:2:2 one's), then upsampled as it does and
                // interleaved; the same samples. (Grey frames gained nothing.)
                let chroma =
                    Chroma::of(h.get(tj::TJPARAM_TJPARAM_SUBSAMP)).filter(|_| raw && samples == 3);
                let rc = match (precision, info.bits_allocated, chroma) {
                    (8, 8, Some(chroma)) => decode_planes(h, src, info, out, chroma),
                    (8, 8, None) => {
                        // SAFETY: out holds rows * columns * samples bytes (check_output), the
                        // size tj3Decompress8 writes for this pitch and pixel format.
                        unsafe {
                            tj::tj3Decompress8(
                                h.0,
                                src.as_ptr(),
                                src.len() as tj::size_t,
                                out.as_mut_ptr(),
                                pitch,
                                pf,
                            )
                        }
                    }
                    (8, 16, _) => {
                        // 8-bit samples in 16-bit elements (rare): decode, then widen.
                        let mut narrow = vec![0u8; n];
                        // SAFETY: narrow holds n bytes, as above.
                        let rc = unsafe {
                            tj::tj3Decompress8(
                                h.0,
                                src.as_ptr(),
                                src.len() as tj::size_t,
                                narrow.as_mut_ptr(),
                                pitch,
                                pf,
                            )
                        };
                        for (o, &v) in out.chunks_exact_mut(2).zip(&narrow) {
                            o[0] = v;
                            o[1] = 0;
                        }
                        rc
                    }
                    (12, 16, _) => {
                        // Straight into `out` when it can hold i16s in place (numpy's arrays
                        // can): 12-bit samples are 0..4095, the same bytes as u16 on a
                        // little-endian machine; else through the scratch buffer.
                        let direct = cfg!(target_endian = "little")
                            && out.as_ptr().align_offset(std::mem::align_of::<i16>()) == 0;
                        let dst: *mut i16 = if direct {
                            out.as_mut_ptr().cast()
                        } else {
                            wide.clear();
                            wide.resize(n, 0);
                            wide.as_mut_ptr()
                        };
                        // A grey frame: libjpeg-turbo with our IDCT (`grey12`); colour
                        // frames by tj3Decompress12.
                        let taken = if samples == 1 {
                            // SAFETY: dst holds n samples (as below), 0..4095 as u16.
                            let view = unsafe { std::slice::from_raw_parts_mut(dst.cast(), n) };
                            let (cols, rows) = (info.columns as usize, info.rows as usize);
                            grey12::decode(src, cols, rows, view)
                        } else {
                            Outcome::NotTaken
                        };
                        let rc = match taken {
                            Outcome::Done => 0,
                            Outcome::Warned(message) if harmless_warning(&message) => 0,
                            Outcome::Warned(message) | Outcome::Failed(message) => {
                                return Err(CodecError::Codestream {
                                    codec: NAME,
                                    offset: 0,
                                    message,
                                })
                            }
                            // SAFETY: dst holds n i16 samples (out: 2 * n bytes, checked by
                            // check_output, and aligned; or wide), the count tj3Decompress12
                            // writes.
                            Outcome::NotTaken => unsafe {
                                tj::tj3Decompress12(
                                    h.0,
                                    src.as_ptr(),
                                    src.len() as tj::size_t,
                                    dst,
                                    pitch,
                                    pf,
                                )
                            },
                        };
                        if !direct {
                            for (o, &v) in out.chunks_exact_mut(2).zip(wide.iter()) {
                                o.copy_from_slice(&(v as u16).to_le_bytes());
                            }
                        }
                        rc
                    }
                    (p, _, _) => {
                        return Err(mismatch(
                            "the sample precision (against bits allocated)",
                            p,
                            u32::from(info.bits_allocated),
                        ))
                    }
                };
                if rc != 0 {
                    // SAFETY: live handle.
                    let fatal =
                        unsafe { tj::tj3GetErrorCode(h.0) } != tj::TJERR_TJERR_WARNING as c_int;
                    if fatal || !harmless_warning(&h.error()) {
                        return Err(lib_error(h));
                    }
                }
                Ok(())
            },
        )
    })?;
    // libjpeg-turbo's samples are within the stream's precision (0..255 or 0..4095): for
    // unsigned data with at least that many bits stored there is nothing to clear.
    let precision_bits = if info.bits_allocated == 8 { 8 } else { 12 };
    if info.signed() || info.bits_stored < precision_bits {
        fix_unused_bits(out, info);
    }
    Ok(())
}

fn encode(
    src: &[u8],
    info: &FrameInfo,
    params: &EncodeParams,
    out: &mut Vec<u8>,
) -> Result<usize, CodecError> {
    encode_as(src, info, params, out, true)
}

/// The samples of an RGB frame dealt into three planes (16 pixels at a time with SSSE3).
fn deinterleave3(src: &[u8], r: &mut [u8], g: &mut [u8], b: &mut [u8]) {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the CPU has SSSE3 (checked above).
        done = unsafe { deinterleave3_ssse3(src, r, g, b) };
    }
    let rest = src[3 * done..].chunks_exact(3);
    for (((px, r), g), b) in rest
        .zip(&mut r[done..])
        .zip(&mut g[done..])
        .zip(&mut b[done..])
    {
        *r = px[0];
        *g = px[1];
        *b = px[2];
    }
}

/// `PSHUFB` masks: for each sample c (R, G, B) and each of three 16-byte loads k (16
/// pixels), output byte j takes input byte 3j + c - 16k when it lies in load k, else 0.
#[cfg(target_arch = "x86_64")]
const DEAL: [[[u8; 16]; 3]; 3] = {
    let mut m = [[[0x80u8; 16]; 3]; 3];
    let mut c = 0;
    while c < 3 {
        let mut k = 0;
        while k < 3 {
            let mut j = 0;
            while j < 16 {
                let at = 3 * j + c;
                if at >= 16 * k && at < 16 * (k + 1) {
                    m[c][k][j] = (at - 16 * k) as u8;
                }
                j += 1;
            }
            k += 1;
        }
        c += 1;
    }
    m
};

/// Three planes' samples interleaved into RGB pixels (16 pixels at a time with SSSE3).
fn interleave3(r: &[u8], g: &[u8], b: &[u8], out: &mut [u8]) {
    let mut done = 0;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the CPU has SSSE3 (checked above).
        done = unsafe { interleave3_ssse3(r, g, b, out) };
    }
    let rest = out[3 * done..].chunks_exact_mut(3);
    for (((px, &r), &g), &b) in rest.zip(&r[done..]).zip(&g[done..]).zip(&b[done..]) {
        px.copy_from_slice(&[r, g, b]);
    }
}

/// `PSHUFB` masks: for each 16-byte store k of 16 pixels and each sample c, output byte j
/// takes byte (16k + j) / 3 of plane c when it is that sample, else 0.
#[cfg(target_arch = "x86_64")]
const JOIN: [[[u8; 16]; 3]; 3] = {
    let mut m = [[[0x80u8; 16]; 3]; 3];
    let mut k = 0;
    while k < 3 {
        let mut c = 0;
        while c < 3 {
            let mut j = 0;
            while j < 16 {
                if (16 * k + j) % 3 == c {
                    m[k][c][j] = ((16 * k + j) / 3) as u8;
                }
                j += 1;
            }
            c += 1;
        }
        k += 1;
    }
    m
};

/// [`interleave3`] of whole blocks of 16 pixels; how many pixels it joined.
///
/// # Safety
/// The CPU must have SSSE3.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn interleave3_ssse3(r: &[u8], g: &[u8], b: &[u8], out: &mut [u8]) -> usize {
    use std::arch::x86_64::{_mm_loadu_si128, _mm_or_si128, _mm_shuffle_epi8, _mm_storeu_si128};
    let pixels = (out.len() / 3).min(r.len()).min(g.len()).min(b.len());
    let blocks = pixels / 16;
    let m = shuffle_masks(&JOIN);
    let ins = [r.as_ptr(), g.as_ptr(), b.as_ptr()];
    for i in 0..blocks {
        // SAFETY: each plane's 16 bytes of block i and its 48 output bytes lie within
        // the slices (i < pixels / 16, pixels bounded by every slice).
        let p = [
            _mm_loadu_si128(ins[0].add(16 * i).cast()),
            _mm_loadu_si128(ins[1].add(16 * i).cast()),
            _mm_loadu_si128(ins[2].add(16 * i).cast()),
        ];
        let at = out.as_mut_ptr().add(48 * i);
        for (k, mk) in m.iter().enumerate() {
            let v = _mm_or_si128(
                _mm_or_si128(_mm_shuffle_epi8(p[0], mk[0]), _mm_shuffle_epi8(p[1], mk[1])),
                _mm_shuffle_epi8(p[2], mk[2]),
            );
            _mm_storeu_si128(at.add(16 * k).cast(), v);
        }
    }
    blocks * 16
}

/// A 3 x 3 table of byte shuffles ([`DEAL`], [`JOIN`]) in registers, in the same order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn shuffle_masks(t: &[[[u8; 16]; 3]; 3]) -> [[std::arch::x86_64::__m128i; 3]; 3] {
    // SAFETY: each mask is 16 bytes, read unaligned.
    t.map(|row| row.map(|m| unsafe { std::arch::x86_64::_mm_loadu_si128(m.as_ptr().cast()) }))
}

/// [`deinterleave3`] of whole blocks of 16 pixels; how many pixels it dealt.
///
/// # Safety
/// The CPU must have SSSE3.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "ssse3")]
unsafe fn deinterleave3_ssse3(src: &[u8], r: &mut [u8], g: &mut [u8], b: &mut [u8]) -> usize {
    use std::arch::x86_64::{
        __m128i, _mm_loadu_si128, _mm_or_si128, _mm_shuffle_epi8, _mm_storeu_si128,
    };
    let pixels = (src.len() / 3).min(r.len()).min(g.len()).min(b.len());
    let blocks = pixels / 16;
    let m = shuffle_masks(&DEAL);
    let outs = [r.as_mut_ptr(), g.as_mut_ptr(), b.as_mut_ptr()];
    for i in 0..blocks {
        // SAFETY: block i's 48 source bytes and each plane's 16 bytes lie within the
        // slices (i < pixels / 16, pixels bounded by every slice).
        let at = src.as_ptr().add(48 * i);
        let a: [__m128i; 3] = [
            _mm_loadu_si128(at.cast()),
            _mm_loadu_si128(at.add(16).cast()),
            _mm_loadu_si128(at.add(32).cast()),
        ];
        for c in 0..3 {
            let v = _mm_or_si128(
                _mm_or_si128(
                    _mm_shuffle_epi8(a[0], m[c][0]),
                    _mm_shuffle_epi8(a[1], m[c][1]),
                ),
                _mm_shuffle_epi8(a[2], m[c][2]),
            );
            _mm_storeu_si128(outs[c].add(16 * i).cast(), v);
        }
    }
    blocks * 16
}

/// [`encode`], 8-bit frames without a colour transform given to libjpeg-turbo as planes
/// when `raw`, else as pixels (the tests check the two give the same stream).
fn encode_as(
    src: &[u8],
    info: &FrameInfo,
    params: &EncodeParams,
    out: &mut Vec<u8>,
    raw: bool,
) -> Result<usize, CodecError> {
    info.validate()?;
    let expected = crate::frame_size_bytes(info);
    if src.len() != expected {
        return Err(CodecError::InputSize {
            expected,
            actual: src.len(),
        });
    }
    let samples = usize::from(info.samples_per_pixel);
    let precision = match (info.bits_allocated, info.bits_stored) {
        (8, _) => 8,
        (16, 9..=12) => 12,
        _ => {
            return Err(CodecError::InvalidFrameInfo {
                reason: "lossy JPEG encodes 8-bit (Bits Allocated 8) or 9-12-bit (Bits Allocated 16) samples",
            })
        }
    };
    if info.signed() || (samples != 1 && samples != 3) {
        return Err(CodecError::InvalidFrameInfo {
            reason: "lossy JPEG encodes unsigned frames of 1 or 3 samples",
        });
    }
    let width = c_int::try_from(info.columns).ok();
    let height = c_int::try_from(info.rows).ok();
    let (Some(width), Some(height)) = (width, height) else {
        return Err(CodecError::InvalidFrameInfo {
            reason: "frame too large for JPEG",
        });
    };
    if width > 65535 || height > 65535 {
        return Err(CodecError::InvalidFrameInfo {
            reason: "JPEG frames are at most 65535 x 65535",
        });
    }
    with_handle(&ENCODER, tj::TJINIT_TJINIT_COMPRESS, false, |h| {
        let (subsamp, cs, pf) = match (samples, params.colour_transform) {
            (1, _) => (
                tj::TJSAMP_TJSAMP_GRAY,
                tj::TJCS_TJCS_GRAY,
                tj::TJPF_TJPF_GRAY,
            ),
            (_, true) => (
                tj::TJSAMP_TJSAMP_422,
                tj::TJCS_TJCS_YCbCr,
                tj::TJPF_TJPF_RGB,
            ),
            (_, false) => (tj::TJSAMP_TJSAMP_444, tj::TJCS_TJCS_RGB, tj::TJPF_TJPF_RGB),
        };
        let ok = h.set(
            tj::TJPARAM_TJPARAM_QUALITY,
            c_int::from(params.quality.clamp(1, 100)),
        ) && h.set(tj::TJPARAM_TJPARAM_SUBSAMP, subsamp as c_int)
            && h.set(tj::TJPARAM_TJPARAM_COLORSPACE, cs as c_int)
            && h.set(tj::TJPARAM_TJPARAM_PRECISION, precision)
            && h.set(tj::TJPARAM_TJPARAM_LOSSLESS, 0)
            // 8-bit: into `out`'s capacity, sized by TurboJPEG's worst case (no buffer
            // of its own to allocate, fault in and copy from); 12-bit: its own buffer.
            && h.set(tj::TJPARAM_TJPARAM_NOREALLOC, i32::from(precision == 8))
            && h.set(tj::TJPARAM_TJPARAM_OPTIMIZE, i32::from(precision == 12));
        if !ok {
            return Err(CodecError::Encoder {
                codec: NAME,
                message: h.error(),
            });
        }
        let mut buf: *mut u8 = std::ptr::null_mut();
        let mut size: tj::size_t = 0;
        if precision == 8 {
            // SAFETY: no preconditions (0 for parameters it cannot size).
            let worst = unsafe { tj::tj3JPEGBufSize(width, height, subsamp as c_int) } as usize;
            if worst == 0 {
                return Err(CodecError::Encoder {
                    codec: NAME,
                    message: h.error(),
                });
            }
            out.clear();
            out.reserve(worst);
            buf = out.as_mut_ptr();
            size = out.capacity() as tj::size_t;
        }
        let pitch = width * samples as c_int;
        // SAFETY: src holds rows * columns * samples elements of the precision's width
        // (checked above); 8-bit: `buf` is `out`'s capacity of `size` bytes (NOREALLOC),
        // else TurboJPEG allocates `buf`, freed below with tj3Free.
        let rc = unsafe {
            if precision == 8 && raw && (samples == 1 || !params.colour_transform) {
                // The components as planes (libjpeg's raw data input): no colour
                // "conversion" pass (a copy of every sample, ~12% of an RGB frame's time)
                // nor full-size "downsampling" pass; a grey frame goes in as it lies.
                // The same coefficients, so the same stream.
                PLANES.with(|planes| {
                    let mut planes = planes.borrow_mut();
                    let n = src.len() / samples;
                    let ptrs: [*const u8; 3] = if samples == 1 {
                        [src.as_ptr(); 3]
                    } else {
                        planes.resize(src.len(), 0);
                        let (r, gb) = planes.split_at_mut(n);
                        let (g, b) = gb.split_at_mut(n);
                        deinterleave3(src, r, g, b);
                        [r.as_ptr(), g.as_ptr(), b.as_ptr()]
                    };
                    let strides = [width; 3];
                    tj::tj3CompressFromYUVPlanes8(
                        h.0,
                        ptrs.as_ptr(),
                        width,
                        strides.as_ptr(),
                        height,
                        &mut buf,
                        &mut size,
                    )
                })
            } else if precision == 8 {
                tj::tj3Compress8(
                    h.0,
                    src.as_ptr(),
                    width,
                    pitch,
                    height,
                    pf as c_int,
                    &mut buf,
                    &mut size,
                )
            } else {
                let mut samples12: Vec<i16> = src
                    .chunks_exact(2)
                    .map(|b| (u16::from_le_bytes([b[0], b[1]]) & 0x0FFF) as i16)
                    .collect();
                tj::tj3Compress12(
                    h.0,
                    samples12.as_mut_ptr(),
                    width,
                    pitch,
                    height,
                    pf as c_int,
                    &mut buf,
                    &mut size,
                )
            }
        };
        if precision == 8 {
            if rc != 0 {
                return Err(CodecError::Encoder {
                    codec: NAME,
                    message: h.error(),
                });
            }
            let size = size as usize;
            assert!(size <= out.capacity() && buf == out.as_mut_ptr());
            // SAFETY: TurboJPEG wrote `size` bytes at the start of `out`'s capacity.
            unsafe { out.set_len(size) };
            return Ok(size);
        }
        let result = if rc != 0 || buf.is_null() {
            Err(CodecError::Encoder {
                codec: NAME,
                message: h.error(),
            })
        } else {
            // SAFETY: TurboJPEG wrote `size` bytes at `buf`.
            let size = size as usize;
            let bytes = unsafe { std::slice::from_raw_parts(buf, size) };
            if out.len() < size {
                out.resize(size, 0);
            }
            out[..size].copy_from_slice(bytes);
            Ok(size)
        };
        if !buf.is_null() {
            // SAFETY: allocated by TurboJPEG.
            unsafe { tj::tj3Free(buf.cast()) };
        }
        result
    })
}

/// Grey frames decoded by TurboJPEG alone (libjpeg-turbo's own IDCT and entropy
/// decoding), for the fuzz target and the tests that check `grey12` and `huffman8` against
/// it. Not an API.
#[doc(hidden)]
pub mod turbojpeg_alone {
    use std::ffi::c_int;

    use turbojpeg_sys as tj;

    use super::{harmless_warning, with_handle, Handle, DECODER};
    use crate::CodecError;

    /// `jpeg`, a `rows` x `cols` grey frame of `precision` bits, by a fresh decompressor
    /// and `run` (tj3Decompress8 or 12 into the buffer it is given): its samples, or
    /// libjpeg-turbo's text of its error (or of a warning other than the harmless one).
    fn grey<T: Copy + Default>(
        jpeg: &[u8],
        rows: usize,
        cols: usize,
        precision: c_int,
        run: impl FnOnce(&Handle, &mut [T]) -> c_int,
    ) -> Result<Vec<T>, String> {
        with_handle(&DECODER, tj::TJINIT_TJINIT_DECOMPRESS, true, |h| {
            h.set(tj::TJPARAM_TJPARAM_STOPONWARNING, 0);
            h.set(tj::TJPARAM_TJPARAM_MAXMEMORY, 2048);
            // SAFETY: jpeg is a live slice; the handle is a decompressor.
            if unsafe { tj::tj3DecompressHeader(h.0, jpeg.as_ptr(), jpeg.len() as tj::size_t) } != 0
            {
                return Ok(Err(h.error()));
            }
            let size = (
                h.get(tj::TJPARAM_TJPARAM_JPEGHEIGHT),
                h.get(tj::TJPARAM_TJPARAM_JPEGWIDTH),
            );
            let grey = h.get(tj::TJPARAM_TJPARAM_COLORSPACE) == tj::TJCS_TJCS_GRAY as c_int;
            if size != (rows as c_int, cols as c_int)
                || h.get(tj::TJPARAM_TJPARAM_PRECISION) != precision
                || !grey
            {
                return Ok(Err(format!(
                    "not a grey {precision}-bit frame of that size"
                )));
            }
            let mut out = vec![T::default(); rows * cols];
            let rc = run(h, &mut out);
            Ok::<_, CodecError>(if rc != 0 && !harmless_warning(&h.error()) {
                Err(h.error())
            } else {
                Ok(out)
            })
        })
        .unwrap_or_else(|e| Err(e.to_string()))
    }

    /// `jpeg`, a `rows` x `cols` grey 12-bit frame, by tj3Decompress12 ([`grey`]).
    pub fn decode12(jpeg: &[u8], rows: usize, cols: usize) -> Result<Vec<u16>, String> {
        let out = grey(jpeg, rows, cols, 12, |h, out: &mut [i16]| {
            // SAFETY: out holds the rows * cols grey samples of the stream's frame (its
            // size checked by `grey`).
            unsafe {
                tj::tj3Decompress12(
                    h.0,
                    jpeg.as_ptr(),
                    jpeg.len() as tj::size_t,
                    out.as_mut_ptr(),
                    cols as c_int,
                    tj::TJPF_TJPF_GRAY as c_int,
                )
            }
        })?;
        Ok(out.iter().map(|&v| v as u16).collect())
    }

    /// `jpeg`, a `rows` x `cols` grey 8-bit frame, by tj3Decompress8 ([`grey`]).
    pub fn decode8(jpeg: &[u8], rows: usize, cols: usize) -> Result<Vec<u8>, String> {
        grey(jpeg, rows, cols, 8, |h, out: &mut [u8]| {
            // SAFETY: as in decode12.
            unsafe {
                tj::tj3Decompress8(
                    h.0,
                    jpeg.as_ptr(),
                    jpeg.len() as tj::size_t,
                    out.as_mut_ptr(),
                    cols as c_int,
                    tj::TJPF_TJPF_GRAY as c_int,
                )
            }
        })
    }

    /// libjpeg-turbo's samples alone, or its error.
    pub type Alone = Result<Vec<u8>, String>;

    /// `jpeg`, an 8-bit three-component frame of `info`, when our entropy decoder
    /// (`huffman8`) takes it: its samples that way, and libjpeg-turbo's alone (its pixel
    /// output, upsampling its own) or its error. None when left to libjpeg-turbo.
    pub fn colour(jpeg: &[u8], info: &crate::FrameInfo) -> Option<(Vec<u8>, Alone)> {
        let mut stream = Vec::new();
        super::untransformed(jpeg, &mut stream).ok()?;
        let (rows, cols) = (info.rows as usize, info.columns as usize);
        super::huffman8::decode_colour(&stream, cols, rows, |_| ())?;
        let size = crate::frame_size_bytes(info);
        let (mut ours, mut theirs) = (vec![0u8; size], vec![0u8; size]);
        super::decode_as(jpeg, info, &mut ours, true).ok()?;
        let theirs = super::decode_as(jpeg, info, &mut theirs, false)
            .map(|()| theirs)
            .map_err(|e| e.to_string());
        Some((ours, theirs))
    }

    /// `jpeg`, a `rows` x `cols` grey 8-bit frame, by our entropy decoder with
    /// libjpeg-turbo's IDCT (`huffman8`) alone: its samples, or None where that decoder
    /// leaves the frame to libjpeg-turbo.
    pub fn grey8(jpeg: &[u8], rows: usize, cols: usize) -> Option<Vec<u8>> {
        let mut out = vec![0u8; rows * cols];
        super::huffman8::decode(jpeg, cols, rows, &mut out).then_some(out)
    }
}

/// The band coders with the number of threads given, for the fuzz targets and the seed
/// tests (a frame pipeline gives a lone frame its threads; they have none). Not an API.
#[doc(hidden)]
#[cfg(feature = "parallel")]
pub mod bands {
    use super::{restarts, stripes};
    use crate::codec::EncodeParams;
    use crate::{CodecError, FrameInfo};

    /// [`restarts`]: `data` decoded in bands on up to `threads` threads, or None (the
    /// frame would be decoded whole).
    pub fn decode(
        data: &[u8],
        info: &FrameInfo,
        out: &mut [u8],
        threads: usize,
    ) -> Option<Result<(), CodecError>> {
        restarts::decode_in_bands(data, info, out, threads)
    }

    /// [`stripes`]: `src` encoded in bands on `threads` threads, or None (it would be
    /// encoded whole).
    pub fn encode(
        src: &[u8],
        info: &FrameInfo,
        params: &EncodeParams,
        threads: usize,
    ) -> Option<Result<Vec<u8>, CodecError>> {
        let mut out = Vec::new();
        Some(
            stripes::encode_striped(src, info, params, &mut out, threads)?.map(|n| {
                out.truncate(n);
                out
            }),
        )
    }
}

/// The DCT-based JPEG syntaxes through libjpeg-turbo.
#[derive(Debug, Clone, Copy)]
pub struct JpegDct;

impl Codec for JpegDct {
    fn name(&self) -> &'static str {
        NAME
    }

    fn decode(&self, data: &[u8], info: &FrameInfo, out: &mut [u8]) -> Result<(), CodecError> {
        // A lone frame with threads to spare and restart intervals of whole MCU rows:
        // its bands on each (`restarts`).
        #[cfg(feature = "parallel")]
        {
            let threads = crate::codec::inner_thread_count(info);
            if threads > 1 {
                if let Some(done) = restarts::decode_in_bands(data, info, out, threads) {
                    return done;
                }
            }
        }
        decode(data, info, out)
    }

    fn can_encode(&self, ts: &TransferSyntax) -> bool {
        ENCODES && (ts.uid == BASELINE || ts.uid == EXTENDED)
    }

    fn check_params(&self, ts: &TransferSyntax, params: &EncodeParams) -> Result<(), String> {
        if !(1..=100).contains(&params.quality) {
            return Err(format!(
                "JPEG quality must be 1 to 100, not {}",
                params.quality
            ));
        }
        if !self.can_encode(ts) {
            return Err(format!(
                "dicomfast does not encode {} with libjpeg-turbo",
                ts.uid
            ));
        }
        Ok(())
    }

    fn check_frame(&self, ts: &TransferSyntax, info: &FrameInfo) -> Result<(), String> {
        // PS3.5 8.2.1: Process 1 (Baseline) codes 8-bit samples; Processes 2 and 4
        // (Extended) 8 or 12.
        if ts.uid == BASELINE && (info.bits_allocated != 8 || info.bits_stored > 8) {
            return Err(format!(
                "JPEG Baseline ({BASELINE}) holds 8-bit samples, not {} bits stored: \
                 use JPEG Extended ({EXTENDED}) for up to 12",
                info.bits_stored
            ));
        }
        Ok(())
    }

    fn encode_in(
        &self,
        src: &[u8],
        info: &FrameInfo,
        params: &EncodeParams,
        out: &mut Vec<u8>,
    ) -> Result<usize, CodecError> {
        // A lone frame with threads to spare: its bands on each (`stripes`).
        #[cfg(feature = "parallel")]
        {
            let threads = crate::codec::inner_thread_count(info);
            if threads > 1 {
                if let Some(done) = stripes::encode_striped(src, info, params, out, threads) {
                    return done;
                }
            }
        }
        encode(src, info, params, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(info: &FrameInfo) -> Vec<u8> {
        let n = info.samples();
        let mut v = Vec::with_capacity(crate::frame_size_bytes(info));
        for i in 0..n {
            let x = (i % info.columns as usize) as u32 * 4095 / info.columns;
            if info.bits_allocated == 8 {
                v.push((x >> 4) as u8);
            } else {
                v.extend_from_slice(&(x as u16).to_le_bytes());
            }
        }
        v
    }

    #[test]
    fn round_trip_close_and_damage_is_an_error() {
        for (ba, bs, spp) in [(8, 8, 1), (8, 8, 3), (16, 12, 1)] {
            let mut info = FrameInfo::new(40, 70, spp, ba);
            info.bits_stored = bs;
            let src = gradient(&info);
            let mut enc = Vec::new();
            let params = EncodeParams::default().with_quality(95);
            let n = encode(&src, &info, &params, &mut enc).unwrap();
            enc.truncate(n);
            let mut out = vec![0u8; src.len()];
            decode(&enc, &info, &mut out).unwrap();
            let step = usize::from(ba / 8);
            let max = src
                .chunks(step)
                .zip(out.chunks(step))
                .map(|(a, b)| {
                    let v = |c: &[u8]| i32::from(c[0]) | c.get(1).map_or(0, |&h| i32::from(h) << 8);
                    (v(a) - v(b)).abs()
                })
                .max()
                .unwrap();
            assert!(max <= if ba == 8 { 3 } else { 40 }, "{ba} {spp}: {max}");
            // Truncated in the entropy-coded data: an error, never a panic.
            let cut = &enc[..enc.len() * 2 / 3];
            assert!(decode(cut, &info, &mut out).is_err());
            // Wrong size in the data set.
            let mut other = info;
            other.rows += 1;
            let mut out2 = vec![0u8; crate::frame_size_bytes(&other)];
            assert!(matches!(
                decode(&enc, &other, &mut out2),
                Err(CodecError::Mismatch { .. })
            ));
            assert!(decode(&[0xFF, 0xD8, 0xFF], &info, &mut out).is_err());
            assert!(decode(&[], &info, &mut out).is_err());
        }
    }

    /// A damaged stream (here bytes of its header changed) is an error for that frame
    /// only: every good frame after it on the same thread still decodes. (Before, a bogus
    /// Huffman table stayed in the thread's libjpeg-turbo handle and failed every later
    /// frame.)
    #[test]
    fn a_damaged_frame_does_not_break_the_next() {
        let info = FrameInfo::new(48, 64, 3, 8);
        let src = gradient(&info);
        let mut good = Vec::new();
        let n = encode(&src, &info, &EncodeParams::default(), &mut good).unwrap();
        good.truncate(n);
        let mut expected = vec![0u8; src.len()];
        decode(&good, &info, &mut expected).unwrap();
        let mut seed = 7u32;
        let mut failed = 0;
        for _ in 0..200 {
            let mut damaged = good.clone();
            for _ in 0..3 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let at = seed as usize % damaged.len().min(700);
                damaged[at] = (seed >> 16) as u8;
            }
            let mut out = vec![0u8; src.len()];
            failed += usize::from(decode(&damaged, &info, &mut out).is_err());
            decode(&good, &info, &mut out).expect("a good frame after a damaged one");
            assert_eq!(out, expected);
        }
        assert!(failed > 20, "the damage was seen ({failed} of 200)");
    }

    /// 8-bit frames go to libjpeg-turbo as planes (its raw data input): the stream is the
    /// one the pixels give, byte for byte; grey and RGB, sizes whole MCUs and not,
    /// qualities low and high.
    #[test]
    fn planes_and_pixels_give_the_same_stream() {
        for &(rows, cols, spp, quality) in &[
            (64u32, 64u32, 1u16, 90u8),
            (37, 61, 1, 50),
            (48, 40, 3, 90),
            (33, 17, 3, 20),
            (1, 1, 3, 100),
        ] {
            let info = FrameInfo::new(rows, cols, spp, 8);
            let src: Vec<u8> = (0..crate::frame_size_bytes(&info))
                .map(|i| ((i * 7 + i / 61 * 13) % 251) as u8)
                .collect();
            let params = EncodeParams::default().with_quality(quality);
            let (mut planes, mut pixels) = (Vec::new(), Vec::new());
            let n = encode_as(&src, &info, &params, &mut planes, true).unwrap();
            planes.truncate(n);
            let n = encode_as(&src, &info, &params, &mut pixels, false).unwrap();
            pixels.truncate(n);
            assert!(planes == pixels, "{rows}x{cols}x{spp} q{quality}");
        }
    }

    /// The SSSE3 dealing and joining equal the plain ones, at every length around their
    /// blocks.
    #[test]
    fn rgb_samples_are_dealt_into_planes_and_joined_again() {
        for n in [0usize, 1, 15, 16, 17, 31, 32, 33, 100, 367] {
            let src: Vec<u8> = (0..3 * n).map(|i| (i * 37 % 256) as u8).collect();
            let (mut r, mut g, mut b) = (vec![0u8; n], vec![0u8; n], vec![0u8; n]);
            deinterleave3(&src, &mut r, &mut g, &mut b);
            for i in 0..n {
                assert_eq!([r[i], g[i], b[i]], src[3 * i..3 * i + 3], "{n}: pixel {i}");
            }
            let mut joined = vec![0u8; 3 * n];
            interleave3(&r, &g, &b, &mut joined);
            assert_eq!(joined, src, "{n}");
        }
    }

    /// Three-component frames, 4:4:4 and 4:2:2, come from libjpeg-turbo as planes (4:2:2
    /// upsampled by us): the samples the pixel way gives, at widths around the SIMD blocks
    /// and the narrow rows libjpeg-turbo doubles plainly.
    #[test]
    fn planes_and_pixels_decode_alike() {
        for &(rows, cols, spp, ycc) in &[
            (48, 40, 3, false),
            (33, 17, 3, false),
            (1, 1, 3, false),
            (33, 17, 3, true),
            (48, 64, 3, true),
            (9, 63, 3, true),
            (5, 97, 3, true),
            (3, 5, 3, true),
            (2, 4, 3, true),
            (1, 3, 3, true),
            (1, 1, 3, true),
            (16, 130, 3, true),
        ] {
            let info = FrameInfo::new(rows, cols, spp, 8);
            let src: Vec<u8> = (0..crate::frame_size_bytes(&info))
                .map(|i| ((i * 7 + i / 61 * 13) % 251) as u8)
                .collect();
            let params = EncodeParams::default().with_colour_transform(ycc);
            let mut enc = Vec::new();
            let n = encode(&src, &info, &params, &mut enc).unwrap();
            enc.truncate(n);
            let (mut planes, mut pixels) = (vec![1u8; src.len()], vec![2u8; src.len()]);
            decode_as(&enc, &info, &mut planes, true).unwrap();
            decode_as(&enc, &info, &mut pixels, false).unwrap();
            assert!(planes == pixels, "{rows}x{cols}x{spp} 4:2:2 {ycc}");
        }
    }

    /// `src` (8-bit RGB) coded by libjpeg-turbo as YCbCr with the TJSAMP `subsamp`.
    fn encode_subsampled(src: &[u8], rows: u32, cols: u32, subsamp: tj::TJSAMP) -> Vec<u8> {
        encode_subsampled_restarting(src, rows, cols, subsamp, 0)
    }

    /// [`encode_subsampled`] with a restart marker every `restart_rows` MCU rows (0: none).
    fn encode_subsampled_restarting(
        src: &[u8],
        rows: u32,
        cols: u32,
        subsamp: tj::TJSAMP,
        restart_rows: c_int,
    ) -> Vec<u8> {
        let params = [
            (tj::TJPARAM_TJPARAM_RESTARTROWS, restart_rows),
            (tj::TJPARAM_TJPARAM_QUALITY, 85),
            (tj::TJPARAM_TJPARAM_SUBSAMP, subsamp as c_int),
            (tj::TJPARAM_TJPARAM_COLORSPACE, tj::TJCS_TJCS_YCbCr as c_int),
        ];
        // SAFETY: src holds rows * cols RGB pixels; TurboJPEG allocates the buffer.
        tj_compress(&params, |h, buf, size| unsafe {
            tj::tj3Compress8(
                h.0,
                src.as_ptr(),
                cols as c_int,
                3 * cols as c_int,
                rows as c_int,
                tj::TJPF_TJPF_RGB as c_int,
                buf,
                size,
            )
        })
    }

    /// A stream TurboJPEG writes with `params` set, `compress` calling its tj3Compress
    /// function with the handle and the buffer and size it allocates.
    fn tj_compress(
        params: &[(tj::TJPARAM, c_int)],
        compress: impl FnOnce(&Handle, &mut *mut u8, &mut tj::size_t) -> c_int,
    ) -> Vec<u8> {
        with_handle(&ENCODER, tj::TJINIT_TJINIT_COMPRESS, true, |h| {
            for &(p, v) in params {
                assert!(h.set(p, v));
            }
            let (mut buf, mut size): (*mut u8, tj::size_t) = (std::ptr::null_mut(), 0);
            let rc = compress(h, &mut buf, &mut size);
            assert_eq!(rc, 0, "{}", h.error());
            // SAFETY: TurboJPEG wrote `size` bytes at `buf`, freed after the copy.
            let v = unsafe { std::slice::from_raw_parts(buf, size as usize) }.to_vec();
            unsafe { tj::tj3Free(buf.cast()) };
            Ok::<_, CodecError>(v)
        })
        .unwrap()
    }

    /// 4:2:0 frames come from libjpeg-turbo as planes too, upsampled down and across by
    /// us: the samples the pixel way gives, at sizes around the SIMD blocks, odd heights
    /// and widths (the edge rows and columns repeated) and the narrow rows libjpeg-turbo
    /// doubles plainly.
    #[test]
    fn planes_and_pixels_decode_alike_420() {
        for &(rows, cols) in &[
            (48, 64),
            (33, 17),
            (17, 33),
            (9, 63),
            (5, 97),
            (3, 5),
            (2, 4),
            (1, 3),
            (1, 1),
            (2, 2),
            (4, 6),
            (16, 130),
            (31, 66),
            (64, 65),
        ] {
            let info = FrameInfo::new(rows, cols, 3, 8);
            let src: Vec<u8> = (0..crate::frame_size_bytes(&info))
                .map(|i| ((i * 7 + i / 61 * 13 + i / 997 * 5) % 251) as u8)
                .collect();
            let enc = encode_subsampled(&src, rows, cols, tj::TJSAMP_TJSAMP_420);
            let (mut planes, mut pixels) = (vec![1u8; src.len()], vec![2u8; src.len()]);
            decode_as(&enc, &info, &mut planes, true).unwrap();
            decode_as(&enc, &info, &mut pixels, false).unwrap();
            assert!(planes == pixels, "{rows}x{cols} 4:2:0");
        }
    }

    /// `stream` damaged for trial `trial`: cut short every fifth trial, else one to three
    /// bytes changed, where and to what `rand` says.
    pub(super) fn damaged(stream: &[u8], trial: usize, rand: &mut impl FnMut() -> u32) -> Vec<u8> {
        let mut bad = stream.to_vec();
        if trial.is_multiple_of(5) {
            bad.truncate(rand() as usize % stream.len());
        } else {
            for _ in 0..1 + trial % 3 {
                let at = rand() as usize % bad.len();
                bad[at] = rand() as u8;
            }
        }
        bad
    }

    /// Whether our entropy decoder (`huffman8`) takes the three-component stream `enc`
    /// (after the codec's marker rewrite) of `rows` x `cols`.
    fn ours_take_colour(enc: &[u8], rows: u32, cols: u32) -> bool {
        let mut stream = Vec::new();
        if untransformed(enc, &mut stream).is_err() {
            return false;
        }
        huffman8::decode_colour(&stream, cols as usize, rows as usize, |_| ()).is_some()
    }

    /// Colour frames (4:4:4, 4:2:2, 4:2:0; restart intervals or none; sizes around the
    /// MCU) are decoded by our entropy decoder into libjpeg-turbo's IDCT, to the samples
    /// libjpeg-turbo gives alone (the pixel way).
    #[test]
    fn colour_frames_by_our_entropy_decoder_decode_as_libjpeg_turbo() {
        if !huffman8::has_avx2() {
            return;
        }
        for subsamp in [
            tj::TJSAMP_TJSAMP_444,
            tj::TJSAMP_TJSAMP_422,
            tj::TJSAMP_TJSAMP_420,
        ] {
            for &(rows, cols) in &[
                (48u32, 64u32),
                (33, 17),
                (1, 1),
                (9, 63),
                (16, 130),
                (64, 65),
                (100, 41),
            ] {
                for restart in [0, 1, 2] {
                    let info = FrameInfo::new(rows, cols, 3, 8);
                    let src: Vec<u8> = (0..crate::frame_size_bytes(&info))
                        .map(|i| ((i * 7 + i / 61 * 13 + i / 997 * 5) % 251) as u8)
                        .collect();
                    let enc = encode_subsampled_restarting(&src, rows, cols, subsamp, restart);
                    let case = format!("{rows}x{cols} subsampling {subsamp} restart {restart}");
                    assert!(ours_take_colour(&enc, rows, cols), "{case}: not taken");
                    let (mut ours, mut theirs) = (vec![1u8; src.len()], vec![2u8; src.len()]);
                    decode_as(&enc, &info, &mut ours, true).unwrap();
                    decode_as(&enc, &info, &mut theirs, false).unwrap();
                    assert!(ours == theirs, "{case}");
                }
            }
        }
    }

    /// A damaged colour stream is decoded by our entropy decoder only when libjpeg-turbo
    /// decodes it without a warning (the pixel way), and then to its samples.
    #[test]
    fn damaged_colour_frames_are_left_to_libjpeg_turbo_or_decode_alike() {
        if !huffman8::has_avx2() {
            return;
        }
        let (rows, cols) = (24u32, 40u32);
        let info = FrameInfo::new(rows, cols, 3, 8);
        let src: Vec<u8> = (0..crate::frame_size_bytes(&info))
            .map(|i| ((i * 7 + i / 61 * 13) % 251) as u8)
            .collect();
        let mut seed = 11u32;
        let mut rand = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            seed >> 8
        };
        let (mut taken, mut left) = (0, 0);
        for subsamp in [
            tj::TJSAMP_TJSAMP_444,
            tj::TJSAMP_TJSAMP_422,
            tj::TJSAMP_TJSAMP_420,
        ] {
            for restart in [0, 1] {
                let enc = encode_subsampled_restarting(&src, rows, cols, subsamp, restart);
                for trial in 0..300 {
                    let bad = damaged(&enc, trial, &mut rand);
                    if !ours_take_colour(&bad, rows, cols) {
                        left += 1;
                        continue;
                    }
                    taken += 1;
                    let (mut ours, mut theirs) = (vec![1u8; src.len()], vec![2u8; src.len()]);
                    decode_as(&bad, &info, &mut ours, true).unwrap();
                    decode_as(&bad, &info, &mut theirs, false).unwrap_or_else(|e| {
                        panic!("trial {trial}: taken, refused by libjpeg-turbo: {e}")
                    });
                    assert!(ours == theirs, "trial {trial}");
                }
            }
        }
        assert!(taken > 0 && left > 0, "taken {taken}, left {left}");
    }

    /// A frame whose chroma is halved down (4:2:0) is upsampled across MCU rows, so its
    /// restart intervals cannot be decoded as streams of their own (a band's edge rows
    /// would repeat where the whole frame's have neighbours): such a frame with restart
    /// markers is decoded whole, and the same with more threads. 4:2:2 and 4:4:4 frames
    /// are still decoded in bands, alike.
    #[cfg(feature = "parallel")]
    #[test]
    fn restart_bands_only_where_chroma_is_not_halved_down() {
        let (rows, cols) = (96u32, 80u32);
        let info = FrameInfo::new(rows, cols, 3, 8);
        let src: Vec<u8> = (0..crate::frame_size_bytes(&info))
            .map(|i| ((i * 7 + i / 61 * 13 + i / 997 * 5) % 251) as u8)
            .collect();
        for (subsamp, banded) in [
            (tj::TJSAMP_TJSAMP_420, false),
            (tj::TJSAMP_TJSAMP_422, true),
            (tj::TJSAMP_TJSAMP_444, true),
        ] {
            let enc = encode_subsampled_restarting(&src, rows, cols, subsamp, 1);
            let mut whole = vec![0u8; src.len()];
            decode(&enc, &info, &mut whole).unwrap();
            let mut bands = vec![1u8; src.len()];
            let got = restarts::decode_in_bands(&enc, &info, &mut bands, 2);
            assert_eq!(got.is_some(), banded, "{subsamp}");
            if banded {
                assert!(bands == whole, "{subsamp}");
            }
        }
    }

    /// The SIMD part of the 4:2:0 upsampler gives what its plain loop gives, at every
    /// length around its blocks.
    #[test]
    fn upsample_h2v2_blocks_and_loop_agree() {
        for n in 3..70usize {
            let near: Vec<u8> = (0..n).map(|i| ((i * 37 + 11) % 256) as u8).collect();
            let far: Vec<u8> = (0..n).map(|i| ((i * 91 + 200) % 256) as u8).collect();
            let mut fast = vec![0u8; 4 * n + 4];
            upsample_h2v2(&near, &far, &mut fast);
            let c = |j: isize| {
                let j = j.clamp(0, n as isize - 1) as usize;
                3 * u32::from(near[j]) + u32::from(far[j])
            };
            for i in 0..n as isize {
                let a = 3 * c(i);
                assert_eq!(
                    u32::from(fast[2 * i as usize]),
                    (a + c(i - 1) + 8) >> 4,
                    "{n} {i}"
                );
                assert_eq!(
                    u32::from(fast[2 * i as usize + 1]),
                    (a + c(i + 1) + 7) >> 4,
                    "{n} {i}"
                );
            }
        }
    }

    /// Where each marker `m` (FF m) is in `jpeg`.
    fn markers(jpeg: &[u8], m: u8) -> Vec<usize> {
        (0..jpeg.len() - 1)
            .filter(|&i| jpeg[i] == 0xFF && jpeg[i + 1] == m)
            .collect()
    }

    /// libjpeg-turbo reports an image's first warning only: a harmless one must not hide a
    /// later one. (Before, stray bytes before a restart marker, or a sequential scan with
    /// Se 0, hid a later interval cut short: the frame "decoded", its last rows invented.)
    #[test]
    fn a_warning_hides_no_damage() {
        let info = FrameInfo::new(64, 64, 1, 8);
        let src = gradient(&info);
        let mut good = Vec::new();
        let n = encode(&src, &info, &EncodeParams::default(), &mut good).unwrap();
        good.truncate(n);
        let mut expected = vec![0u8; info.samples()];
        decode(&good, &info, &mut expected).unwrap();
        let mut out = vec![0u8; info.samples()];
        let eoi = markers(&good, 0xD9)[0];
        let cut = |s: &[u8], from: usize, to: usize| [&s[..from], &s[to..]].concat();
        // Padding before EOI, after the last coded data: decoded, the same samples.
        let padded = [&good[..eoi], &[0, 0][..], &good[eoi..]].concat();
        decode(&padded, &info, &mut out).expect("padding before EOI");
        assert_eq!(out, expected);
        // Se 0 in the sequential scan (WG04's JPLY files): read as 0-63, the same samples;
        // and a cut after it is still an error.
        let sos = markers(&good, 0xDA)[0];
        let se = sos + 2 + 2 + 1 + 2 + 1;
        assert_eq!(good[se], 63);
        let mut se0 = good.clone();
        se0[se] = 0;
        decode(&se0, &info, &mut out).expect("Se 0");
        assert_eq!(out, expected);
        let half = (se + eoi) / 2;
        assert!(decode(&cut(&se0, half, eoi - 40), &info, &mut out).is_err());
        // Stray bytes before a restart marker, then an interval cut short: an error.
        #[cfg(feature = "parallel")]
        {
            let noisy: Vec<u8> = (0..src.len())
                .map(|i| ((i * 7 + i / 64 * 13) % 251) as u8)
                .collect();
            let mut banded = Vec::new();
            stripes::encode_striped(&noisy, &info, &EncodeParams::default(), &mut banded, 4)
                .expect("in bands")
                .unwrap();
            let rst0 = markers(&banded, 0xD0)[0];
            let stray = [&banded[..rst0], &[0, 0, 0, 0][..], &banded[rst0..]].concat();
            let e = decode(&stray, &info, &mut out).expect_err("stray bytes before RST0");
            assert!(
                e.to_string()
                    .contains("extraneous bytes before marker 0xd0"),
                "{e}"
            );
            let (rst1, rst2) = (markers(&stray, 0xD1)[0], markers(&stray, 0xD2)[0]);
            let damaged = cut(&stray, (rst1 + rst2) / 2, rst2);
            decode(&damaged, &info, &mut out).expect_err("an interval cut short");
        }
    }

    /// `jpeg` without its marker segments `marker` before the first scan.
    fn without(jpeg: &[u8], marker: u8) -> Vec<u8> {
        let mut out = jpeg[..2].to_vec();
        let mut at = 2;
        while jpeg[at + 1] != 0xDA {
            let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
            if jpeg[at + 1] != marker {
                out.extend_from_slice(&jpeg[at..at + 2 + len]);
            }
            at += 2 + len;
        }
        out.extend_from_slice(&jpeg[at..]);
        out
    }

    /// A frame whose stream lacks its tables decodes the same whatever the thread decoded
    /// before. (Before, it took the tables libjpeg-turbo kept from the last frame: a
    /// missing quantization table gave that frame's, not an error; missing Huffman tables
    /// gave its Huffman tables, not the standard ones.)
    #[test]
    fn a_frame_without_its_tables_decodes_alike_whatever_came_before() {
        // 8-bit: coded with the standard Huffman tables (libjpeg-turbo's default).
        let info8 = FrameInfo::new(32, 48, 1, 8);
        let mut good8 = Vec::new();
        let n = encode(
            &gradient(&info8),
            &info8,
            &EncodeParams::default(),
            &mut good8,
        )
        .unwrap();
        good8.truncate(n);
        let mut expected = vec![0u8; info8.samples()];
        decode(&good8, &info8, &mut expected).unwrap();
        // 12-bit: optimised Huffman tables and other quantization tables, which stay in
        // the thread's decompressor.
        let mut info12 = FrameInfo::new(32, 48, 1, 16);
        info12.bits_stored = 12;
        let mut good12 = Vec::new();
        let params = EncodeParams::default().with_quality(40);
        let n = encode(&gradient(&info12), &info12, &params, &mut good12).unwrap();
        good12.truncate(n);
        let mut out12 = vec![0u8; crate::frame_size_bytes(&info12)];
        let (no_dht, no_dqt) = (without(&good8, 0xC4), without(&good8, 0xDB));
        assert!(no_dht.len() < good8.len() && no_dqt.len() < good8.len());
        for _ in 0..3 {
            let mut out = vec![0u8; info8.samples()];
            decode(&no_dht, &info8, &mut out).expect("standard Huffman tables");
            assert_eq!(out, expected);
            decode(&good12, &info12, &mut out12).unwrap();
            decode(&no_dht, &info8, &mut out).expect("standard Huffman tables");
            assert_eq!(out, expected, "the 12-bit frame's Huffman tables were used");
            decode(&good12, &info12, &mut out12).unwrap();
            let e = decode(&no_dqt, &info8, &mut out).expect_err("no quantization table");
            assert!(e.to_string().contains("Quantization table"), "{e}");
        }
    }

    /// A 12-bit grey frame (`src`, 0..4095) coded by libjpeg-turbo at `quality`, with a
    /// restart marker every `restart_rows` MCU rows (0: none).
    fn encode12(
        src: &[i16],
        rows: usize,
        cols: usize,
        quality: c_int,
        restart_rows: c_int,
    ) -> Vec<u8> {
        let params = [
            (tj::TJPARAM_TJPARAM_RESTARTROWS, restart_rows),
            (tj::TJPARAM_TJPARAM_QUALITY, quality),
            (tj::TJPARAM_TJPARAM_SUBSAMP, tj::TJSAMP_TJSAMP_GRAY as c_int),
            (tj::TJPARAM_TJPARAM_PRECISION, 12),
        ];
        // SAFETY: src holds rows * cols samples; TurboJPEG allocates the buffer.
        tj_compress(&params, |h, buf, size| unsafe {
            tj::tj3Compress12(
                h.0,
                src.as_ptr(),
                cols as c_int,
                cols as c_int,
                rows as c_int,
                tj::TJPF_TJPF_GRAY as c_int,
                buf,
                size,
            )
        })
    }

    /// 12-bit grey frames are decoded by libjpeg-turbo with our IDCT: the samples
    /// libjpeg-turbo's own decoding gives, sizes whole blocks and not, qualities from 1 to
    /// 100, with restart markers, and with 16-bit quantization tables of any value (so
    /// that the dequantized coefficients leave the vector code's range and take the scalar
    /// one).
    #[test]
    fn grey_12_bit_frames_decode_as_libjpeg_turbo_decodes_them() {
        let mut checked = 0;
        for &(rows, cols) in &[
            (64usize, 64usize),
            (37, 61),
            (1, 1),
            (8, 9),
            (17, 130),
            (96, 24),
        ] {
            let src: Vec<i16> = (0..rows * cols)
                .map(|i| {
                    let (y, x) = (i / cols, i % cols);
                    ((x * 4095 / cols.max(1) + y * 37 + (i * 7919 % 613)) % 4096) as i16
                })
                .collect();
            let mut info = FrameInfo::new(rows as u32, cols as u32, 1, 16);
            info.bits_stored = 12;
            for &(quality, restarts) in &[(100, 0), (90, 1), (50, 0), (10, 2), (1, 0)] {
                let jpeg = encode12(&src, rows, cols, quality, restarts);
                let mut streams = vec![jpeg.clone()];
                // The same stream with its table replaced by a 16-bit one of big values.
                if let Some(at) = jpeg.windows(2).position(|w| w == [0xFF, 0xDB]) {
                    let len = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
                    assert_eq!(len, 67, "one 8-bit table");
                    let mut table = vec![0xFF, 0xDB, 0, 131, 0x10];
                    for k in 0..64u32 {
                        let v = [0xFFFFu32, 0x8000, 30000, 1, 4095, 0x7FFF, 255][(k % 7) as usize];
                        table.extend_from_slice(&(v as u16).to_be_bytes());
                    }
                    let mut wide = jpeg[..at].to_vec();
                    wide.extend_from_slice(&table);
                    wide.extend_from_slice(&jpeg[at + 2 + len..]);
                    streams.push(wide);
                }
                for (k, stream) in streams.iter().enumerate() {
                    let want = turbojpeg_alone::decode12(stream, rows, cols)
                        .expect("libjpeg-turbo decodes it");
                    let mut got = vec![0u16; rows * cols];
                    let taken = grey12::decode(stream, cols, rows, &mut got);
                    assert!(
                        matches!(taken, Outcome::Done),
                        "{rows}x{cols} q{quality} {k}"
                    );
                    assert!(
                        got == want,
                        "{rows}x{cols} q{quality} r{restarts} stream {k}"
                    );
                    // And through the codec's entry point.
                    let mut out = vec![0u8; 2 * rows * cols];
                    decode(stream, &info, &mut out).unwrap();
                    let le: Vec<u8> = want.iter().flat_map(|v| v.to_le_bytes()).collect();
                    assert!(out == le, "{rows}x{cols} q{quality} stream {k}: decode()");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 60);
    }

    /// What the 12-bit grey path does not take goes to tj3Decompress12 (an 8-bit frame,
    /// another size), and what libjpeg-turbo says of a damaged stream it says here too.
    #[test]
    fn the_12_bit_grey_path_declines_and_fails_as_libjpeg_turbo() {
        let src: Vec<i16> = (0..40 * 48).map(|i| (i * 13 % 4096) as i16).collect();
        let jpeg = encode12(&src, 40, 48, 85, 0);
        let mut out = vec![0u16; 40 * 48];
        assert!(matches!(
            grey12::decode(&jpeg, 48, 41, &mut vec![0u16; 41 * 48]),
            Outcome::NotTaken
        ));
        assert!(matches!(
            grey12::decode(&jpeg, 48, 40, &mut out[..10]),
            Outcome::NotTaken
        ));
        let info8 = FrameInfo::new(8, 8, 1, 8);
        let mut eight = Vec::new();
        let n = encode(&[7u8; 64], &info8, &EncodeParams::default(), &mut eight).unwrap();
        assert!(matches!(
            grey12::decode(&eight[..n], 8, 8, &mut out[..64]),
            Outcome::NotTaken
        ));
        // Cut short: libjpeg-turbo's warning ("Premature end of JPEG file" or the like),
        // an error for us, the same text as the TurboJPEG way.
        let cut = &jpeg[..jpeg.len() / 2];
        let want = turbojpeg_alone::decode12(cut, 40, 48).expect_err("cut short");
        match grey12::decode(cut, 48, 40, &mut out) {
            Outcome::Warned(m) => assert_eq!(m, want),
            _ => panic!("a warning expected"),
        }
        let mut info = FrameInfo::new(40, 48, 1, 16);
        info.bits_stored = 12;
        let mut bytes = vec![0u8; 2 * 40 * 48];
        let e = decode(cut, &info, &mut bytes).expect_err("cut short");
        assert!(e.to_string().contains(&want), "{e}");
        // Not JPEG at all: libjpeg-turbo's error.
        match grey12::decode(&[0xFF, 0xD8, 0xFF, 0x00, 1, 2, 3], 48, 40, &mut out) {
            Outcome::Failed(m) => assert!(!m.is_empty()),
            _ => panic!("an error expected"),
        }
    }
}
