//! One file to its pictures: read (whole, or mapped when large), parsed, planned
//! (`dicomfast_codec::as_read`, native Pixel Data too), each frame decoded or unpacked,
//! looked up in its grey table, made a PNG and written to a temporary file beside its
//! final name, then renamed (or left for the caller to flush and rename with its group).

use std::fs::{self, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dicomfast_codec::as_read::{children, plan_with_native, Limits, Plan, Source};
use dicomfast_codec::{decode_native_frame, frame_size_bytes};
use dicomfast_core::bytes::FileBytes;
use dicomfast_core::file::{read_file, DicomFile, ReadOptions};
use dicomfast_core::parse::ParseOptions;

use crate::attrs::{self, Photometric};
use crate::display::{Grey, Table, Window};
use crate::picture::{encode_png, npy};

/// The pictures' file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// PNG (the display's values only).
    Png,
    /// NumPy's `.npy`, as `numpy.save` writes it.
    Npy,
}

/// Which values a picture holds (`dicomfast export --values`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Values {
    /// Through the display pipeline: 8 or 16 bits.
    Display,
    /// Through the Modality LUT (Rescale Slope and Intercept: double precision).
    Modality,
    /// As stored.
    Stored,
}

/// What a run asks of every file.
#[derive(Debug, Clone)]
pub struct Options {
    pub format: Format,
    pub values: Values,
    /// Output bits (display values): 8 or 16.
    pub bits: u8,
    /// The user's window (centre, width), instead of the file's.
    pub window: Option<(f64, f64)>,
    /// Which of the file's windows.
    pub voi_index: usize,
    /// A file whose pictures all exist is skipped.
    pub resume: bool,
    /// Leave each picture under its temporary name for the caller to flush and rename.
    pub durable: bool,
    /// The size rules of `dicomfast.pixels.info`.
    pub limits: Limits,
    /// Files up to this size are read whole, larger ones mapped.
    pub read_whole_below: u64,
}

/// What became of a file.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    /// Not taken here: the Python path decides (anything unusual, any failure).
    Declined,
    /// Every picture exists already (`resume`): their bytes.
    Skipped { dst: PathBuf, bytes_out: u64 },
    /// Written: its pictures' bytes and, in a durable run, the temporary files to
    /// flush and rename to their final names.
    Done {
        dst: PathBuf,
        bytes_out: u64,
        frames: u64,
        staged: Vec<(PathBuf, PathBuf)>,
        seconds: f64,
    },
}

/// Per thread memory kept from file to file: the frame, the picture's samples, its file.
#[derive(Default)]
struct Scratch {
    frame: Vec<u8>,
    image: Vec<u8>,
    file: Vec<u8>,
}

impl Scratch {
    /// Buffers larger than this are not kept for the next file.
    const KEEP: usize = 64 << 20;

    fn keep_small(&mut self) {
        for v in [&mut self.frame, &mut self.image, &mut self.file] {
            if v.capacity() > Self::KEEP {
                *v = Vec::new();
            }
        }
    }
}

/// How a decoded frame becomes a picture's values.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Render {
    /// Looked up in the display table of these attributes.
    Display(Grey),
    /// Rescaled in double precision.
    Rescale(f64, f64),
    /// As decoded.
    Stored,
    /// 8-bit RGB as decoded (8 bits), or each value times 257 (16 bits).
    Rgb,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// The tables kept for the files to come (a series shares one): at most this many.
const TABLES_KEPT: usize = 64;

/// Files to pictures under one set of [`Options`]; shared by the threads of a run.
pub struct Exporter {
    opts: Options,
    tables: Mutex<Vec<(Grey, Arc<Table>)>>,
}

impl Exporter {
    pub fn new(opts: Options) -> Self {
        Exporter {
            opts,
            tables: Mutex::new(Vec::new()),
        }
    }

    /// The pictures of the file at `path`, named `base` + `.png` (one frame) or `base` +
    /// `_0000.png` ... (several; `.npy` for that format).
    pub fn export(&self, path: &Path, base: &Path) -> Outcome {
        let t0 = Instant::now();
        let Some(bytes) = FileBytes::open_regular(path, self.opts.read_whole_below) else {
            return Outcome::Declined;
        };
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let outcome = self.write_pictures(bytes.bytes(), base, &mut s);
            s.keep_small();
            match outcome {
                Some(Outcome::Done {
                    dst,
                    bytes_out,
                    frames,
                    staged,
                    ..
                }) => Outcome::Done {
                    dst,
                    bytes_out,
                    frames,
                    staged,
                    seconds: t0.elapsed().as_secs_f64(),
                },
                Some(other) => other,
                None => Outcome::Declined,
            }
        })
    }

    fn table(&self, grey: Grey) -> Option<Arc<Table>> {
        let mut kept = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, t)) = kept.iter().find(|(g, _)| *g == grey) {
            return Some(Arc::clone(t));
        }
        drop(kept); // made outside the lock: another thread's file may need another
        let t = Arc::new(grey.table().ok()?);
        kept = self.tables.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= TABLES_KEPT {
            kept.clear();
        }
        kept.push((grey, Arc::clone(&t)));
        Some(t)
    }

    /// The pictures of the file `file` in memory, or None where [`Exporter::export`]
    /// declines it (for the fuzz target: the same steps, nothing written).
    pub fn pictures(&self, file: &[u8]) -> Option<Vec<Vec<u8>>> {
        let parsed = parse(file)?;
        let buf = parsed.inflated.as_deref().unwrap_or(file);
        let (p, render) = self.prepare(buf, &parsed)?;
        let table = self.table_for(render)?;
        let mut s = Scratch::default();
        let mut out = Vec::new();
        self.each_picture(&p, buf, render, table.as_deref(), &mut s, |_, png| {
            out.push(png.to_vec());
            Some(())
        })?;
        Some(out)
    }

    /// The decode plan of a parsed file and how its frames become pictures.
    fn prepare(&self, buf: &[u8], parsed: &DicomFile) -> Option<(Plan, Render)> {
        let src = Source {
            buf,
            index: &parsed.index,
            meta_nodes: parsed.meta_nodes,
            parent: -1,
            meta: (parsed.meta_nodes > 0).then_some(-2),
        };
        let p = plan_with_native(&src, &self.opts.limits, || {
            Some(parsed.transfer_syntax.clone())
        })?;
        let info = &p.info;
        if !matches!(info.samples_per_pixel, 1 | 3) || !matches!(info.bits_allocated, 8 | 16) {
            return None;
        }
        let top = children(&parsed.index, parsed.meta_nodes, -1);
        let a = attrs::read(buf, &parsed.index, top, self.opts.voi_index)?;
        if info.samples_per_pixel == 3 {
            // RGB of 8 bits: the display's values are the stored ones (scaled to 16 bits
            // when asked), as `batch.export._rescale_bits` makes them.
            let plain = a.photometric == Some(Photometric::Rgb)
                && (
                    info.bits_allocated,
                    info.bits_stored,
                    info.pixel_representation,
                ) == (8, 8, 0)
                && a.bits_stored.is_none_or(|b| b == 8);
            return match self.opts.values {
                Values::Display if plain => Some((p, Render::Rgb)),
                _ => None,
            };
        }
        let render = match self.opts.values {
            Values::Stored => Render::Stored,
            Values::Modality => match a.rescale {
                Some((slope, intercept)) => Render::Rescale(slope, intercept),
                None => Render::Stored,
            },
            Values::Display => {
                let (bits_stored, signed) = (a.bits_stored?, a.signed?);
                if bits_stored != info.bits_stored || signed != (info.pixel_representation == 1) {
                    return None;
                }
                let window = match self.opts.window {
                    Some((center, width)) => Window {
                        center,
                        width,
                        exact: false,
                    },
                    None => a.window?,
                };
                Render::Display(Grey {
                    bytes: (info.bits_allocated / 8) as u8,
                    signed,
                    bits_stored,
                    rescale: a.rescale,
                    window,
                    user_window: self.opts.window.is_some(),
                    monochrome1: match a.photometric? {
                        Photometric::Monochrome1 => true,
                        Photometric::Monochrome2 => false,
                        Photometric::Rgb => return None,
                    },
                    bits: self.opts.bits,
                })
            }
        };
        if self.opts.format == Format::Png && !matches!(render, Render::Display(_)) {
            return None; // PNG holds the display's 8 or 16 bits: the Python path says so
        }
        Some((p, render))
    }

    fn write_pictures(&self, file: &[u8], base: &Path, s: &mut Scratch) -> Option<Outcome> {
        let parsed = parse(file)?;
        let buf = parsed.inflated.as_deref().unwrap_or(file);
        let (p, render) = self.prepare(buf, &parsed)?;
        let names = names(base, self.opts.format, p.frames.len());
        let dst = if names.len() == 1 {
            names[0].clone()
        } else {
            names[0].parent()?.to_path_buf()
        };
        if self.opts.resume {
            let sizes: Option<Vec<u64>> = names
                .iter()
                .map(|n| fs::metadata(n).ok().map(|m| m.len()))
                .collect();
            if let Some(sizes) = sizes {
                let bytes_out = sizes.iter().sum();
                return Some(Outcome::Skipped { dst, bytes_out });
            }
        }
        let table = self.table_for(render)?;
        let mut staged = Vec::new();
        let mut bytes_out = 0;
        let written = self.each_picture(&p, buf, render, table.as_deref(), s, |k, png| {
            let name = names[k].as_path();
            let tmp = write_temp(name, png).ok()?;
            bytes_out += png.len() as u64;
            if self.opts.durable {
                staged.push((tmp, name.to_path_buf()));
            } else if fs::rename(&tmp, name).is_err() {
                let _ = fs::remove_file(&tmp);
                return None;
            }
            Some(())
        });
        if written.is_none() {
            for (tmp, _) in staged {
                let _ = fs::remove_file(tmp);
            }
            return None;
        }
        Some(Outcome::Done {
            dst,
            bytes_out,
            frames: names.len() as u64,
            staged,
            seconds: 0.0,
        })
    }

    /// The display table of `render`, if it has one (None: it cannot be made).
    fn table_for(&self, render: Render) -> Option<Option<Arc<Table>>> {
        match render {
            Render::Display(grey) => Some(Some(self.table(grey)?)),
            _ => Some(None),
        }
    }

    /// Each frame of `p` decoded (or unpacked), made a picture's values as `render` says
    /// (`table`: its display table) and coded as the run's format, handed to `sink` with
    /// its number; None as soon as a step fails.
    fn each_picture(
        &self,
        p: &Plan,
        buf: &[u8],
        render: Render,
        table: Option<&Table>,
        s: &mut Scratch,
        mut sink: impl FnMut(usize, &[u8]) -> Option<()>,
    ) -> Option<()> {
        let info = &p.info;
        let bytes = (info.bits_allocated / 8) as u8;
        let shape = [info.rows as usize, info.columns as usize];
        s.frame.resize(frame_size_bytes(info), 0);
        for (k, fragments) in p.frames.iter().enumerate() {
            let parts: Option<Vec<&[u8]>> = fragments
                .iter()
                .map(|&(off, len)| {
                    let end = off.checked_add(len)?;
                    buf.get(usize::try_from(off).ok()?..usize::try_from(end).ok()?)
                })
                .collect();
            let parts = parts?;
            let joined;
            let data: &[u8] = match parts.as_slice() {
                [one] => one,
                _ => {
                    joined = parts.concat();
                    &joined
                }
            };
            match p.syntax.codec {
                Some(codec) => codec.decode(data, info, &mut s.frame).ok()?,
                None => decode_native_frame(data, info, &mut s.frame).ok()?,
            }
            s.file.clear();
            match (render, self.opts.format) {
                (Render::Display(_), Format::Png) => {
                    table?.gather(&s.frame, bytes, true, &mut s.image);
                    let (rows, columns) = (info.rows, info.columns);
                    encode_png(&s.image, rows, columns, 1, self.opts.bits, &mut s.file).ok()?;
                }
                (Render::Display(_), Format::Npy) => {
                    table?.gather(&s.frame, bytes, false, &mut s.image);
                    let descr = if self.opts.bits == 8 { "|u1" } else { "<u2" };
                    npy(descr, &shape, &s.image, &mut s.file);
                }
                (Render::Rescale(slope, intercept), Format::Npy) => {
                    rescale(
                        &s.frame,
                        bytes,
                        info.pixel_representation == 1,
                        slope,
                        intercept,
                        &mut s.image,
                    );
                    npy("<f8", &shape, &s.image, &mut s.file);
                }
                (Render::Rgb, format) => {
                    let image: &[u8] = if self.opts.bits == 8 {
                        &s.frame
                    } else {
                        s.image.clear();
                        let order = |v: u16| match format {
                            Format::Png => v.to_be_bytes(),
                            Format::Npy => v.to_le_bytes(),
                        };
                        for &v in s.frame.iter() {
                            s.image.extend_from_slice(&order(u16::from(v) * 257));
                        }
                        &s.image
                    };
                    match format {
                        Format::Png => {
                            let (rows, columns, bits) = (info.rows, info.columns, self.opts.bits);
                            encode_png(image, rows, columns, 3, bits, &mut s.file).ok()?;
                        }
                        Format::Npy => {
                            let descr = if self.opts.bits == 8 { "|u1" } else { "<u2" };
                            npy(descr, &[shape[0], shape[1], 3], image, &mut s.file);
                        }
                    }
                }
                (Render::Stored, Format::Npy) => {
                    let descr = match (bytes, info.pixel_representation == 1) {
                        (1, false) => "|u1",
                        (1, true) => "|i1",
                        (_, false) => "<u2",
                        (_, true) => "<i2",
                    };
                    npy(descr, &shape, &s.frame, &mut s.file);
                }
                _ => return None,
            }
            sink(k, &s.file)?;
        }
        Some(())
    }
}

/// The Modality LUT's rescale of `samples` (little-endian, `bytes` each, signed or
/// not), as `dicomfast.pixels.display.apply_modality_lut` computes it: `x * slope +
/// intercept` in double precision, little-endian into `out`.
fn rescale(samples: &[u8], bytes: u8, signed: bool, slope: f64, intercept: f64, out: &mut Vec<u8>) {
    out.clear();
    let mut put = |x: f64| out.extend_from_slice(&(x * slope + intercept).to_le_bytes());
    match (bytes, signed) {
        (1, false) => samples.iter().for_each(|&v| put(f64::from(v))),
        (1, true) => samples.iter().for_each(|&v| put(f64::from(v as i8))),
        (_, false) => samples
            .chunks_exact(2)
            .for_each(|v| put(f64::from(u16::from_le_bytes([v[0], v[1]])))),
        (_, true) => samples
            .chunks_exact(2)
            .for_each(|v| put(f64::from(i16::from_le_bytes([v[0], v[1]])))),
    }
}

/// The file parsed as `dicomfast.read` parses it.
pub(crate) fn parse(file: &[u8]) -> Option<DicomFile> {
    let opts = ReadOptions {
        parse: ParseOptions {
            stop_before_pixels: false,
            partial: false,
            max_depth: 256,
        },
        ..Default::default()
    };
    read_file(file, &opts).ok()
}

/// The pictures' names: `base.png`, or `base_0000.png` ... for several frames (`.npy`
/// for that format).
fn names(base: &Path, format: Format, frames: usize) -> Vec<PathBuf> {
    let ext = match format {
        Format::Png => "png",
        Format::Npy => "npy",
    };
    let named = |tail: String| {
        let mut n = base.as_os_str().to_owned();
        n.push(tail);
        PathBuf::from(n)
    };
    if frames == 1 {
        vec![named(format!(".{ext}"))]
    } else {
        (0..frames)
            .map(|i| named(format!("_{i:04}.{ext}")))
            .collect()
    }
}

/// `data` in a new hidden temporary file beside `dst` (its folder made when missing):
/// `.dicomfast-<16 hex digits>.tmp`, as `dicomfast.tempfiles.create_temp` names them.
pub(crate) fn write_temp(dst: &Path, data: &[u8]) -> io::Result<PathBuf> {
    let folder = dst.parent().unwrap_or(Path::new("."));
    let mut made_folder = false;
    for _ in 0..100 {
        let random = std::collections::hash_map::RandomState::new()
            .build_hasher()
            .finish();
        let tmp = folder.join(format!(".dicomfast-{random:016x}.tmp"));
        let mut opts = OpenOptions::new();
        opts.write(true).create_new(true);
        match opts.open(&tmp) {
            Ok(mut f) => {
                if let Err(e) = f.write_all(data) {
                    drop(f);
                    let _ = fs::remove_file(&tmp);
                    return Err(e);
                }
                return Ok(tmp);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && !made_folder => {
                fs::create_dir_all(folder)?;
                made_folder = true;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("no free temporary name"))
}
