//! What one instance gives its records: its header read, its identifiers, and the
//! keys of each record it needs, encoded as the DICOMDIR holds them.

use crate::tables::{Kind, Tables};
use dicomfast_core::bytes::FileBytes;
use dicomfast_core::index::flags;
use dicomfast_core::write::{write_header, DefaultResolver, Writer};
use dicomfast_core::{dictionary, read_file, value, vr, Encoding, Index, ParseError, ReadOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// A file this small is read whole (in one `read`); a larger one is mapped.
const SMALL_FILE: u64 = 1 << 16;

const SOP_CLASS: u32 = 0x0008_0016;
const SOP_INSTANCE: u32 = 0x0008_0018;
const META_SOP_CLASS: u32 = 0x0002_0002;
const META_SOP_INSTANCE: u32 = 0x0002_0003;
const STUDY_INSTANCE: u32 = 0x0020_000D;

#[derive(Debug)]
pub enum FileError {
    Io(std::io::Error),
    Parse(ParseError),
    /// A folder, a FIFO, a device: nothing an instance is kept in (and a FIFO would
    /// make a read wait for ever).
    NotAFile,
}

/// What reading one file gives: its facts, and its bytes when they were kept.
pub type Header = Result<(Facts, Option<Vec<u8>>), FileError>;

/// A type 1 key a record needs that the instance lacks (or has empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub keyword: String,
    pub tag: u32,
}

/// A record's keys as the DICOMDIR holds them (explicit VR little endian, in tag
/// order, without the record's header elements), or the type 1 key it lacks.
pub type Keys = Result<Vec<u8>, Missing>;

#[derive(Debug)]
pub struct Facts {
    /// SOP Class / Instance UID of the data set, else of the file meta.
    pub sop_class: Option<String>,
    pub sop_uid: Option<String>,
    /// The file meta's Transfer Syntax UID, else the one the data set was read in.
    pub transfer_syntax: String,
    /// The record type of the instance's own record.
    pub record_type: String,
    /// Patient ID, Study and Series Instance UID as found (padding trimmed); None when absent.
    pub ident: [Option<Vec<u8>>; 3],
    /// The keys of its PATIENT, STUDY and SERIES records and of its own record.
    pub keys: [Keys; 4],
}

/// Read the header of the file at `path` and take what its records need.
pub fn read(path: &Path, tables: &Tables) -> Result<Facts, FileError> {
    read_with(path, tables, &mut Vec::new(), None).map(|(f, _)| f)
}

/// [`read`] with `buf` to read small files into, kept by the caller from file to
/// file; and a copy of a small file's bytes as long as they fit in `keep`.
pub fn read_with(
    path: &Path,
    tables: &Tables,
    buf: &mut Vec<u8>,
    keep: Option<&AtomicU64>,
) -> Result<(Facts, Option<Vec<u8>>), FileError> {
    // Opened without waiting (a FIFO's open waits for a writer), then taken only if it
    // is a regular file.
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(FileError::Io)?;
    let meta = f.metadata().map_err(FileError::Io)?;
    if !meta.is_file() {
        return Err(FileError::NotAFile);
    }
    let want = SMALL_FILE as usize + 1;
    if buf.len() < want {
        buf.resize(want, 0);
    }
    let mut n = 0;
    while n < want {
        match f.read(&mut buf[n..want]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FileError::Io(e)),
        }
    }
    let opts = header_options();
    if n < want {
        let data = &buf[..n];
        let facts = from_bytes(data, tables)?;
        let kept = keep
            .filter(|budget| {
                let take = |left: u64| left.checked_sub(n as u64);
                budget
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, take)
                    .is_ok()
            })
            .map(|_| data.to_vec());
        return Ok((facts, kept));
    }
    // A larger file: mapped (as the reader maps it), so that parsing up to the pixel
    // data touches only the header's pages, whatever the file's size.
    f.seek(SeekFrom::Start(0)).map_err(FileError::Io)?;
    let mapped = FileBytes::of(&mut f, meta.len(), SMALL_FILE).map_err(FileError::Io)?;
    let data = mapped.bytes();
    let file = read_file(data, &opts).map_err(FileError::Parse)?;
    Ok((
        facts(file.inflated.as_deref().unwrap_or(data), &file, tables)?,
        None,
    ))
}

/// What the records of the instance held whole in `data` (a Part 10 file or a bare
/// data set) need of it.
pub fn from_bytes(data: &[u8], tables: &Tables) -> Result<Facts, FileError> {
    let file = read_file(data, &header_options()).map_err(FileError::Parse)?;
    facts(file.inflated.as_deref().unwrap_or(data), &file, tables)
}

fn header_options() -> ReadOptions {
    ReadOptions {
        parse: dicomfast_core::parse::ParseOptions {
            stop_before_pixels: true,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The top-level elements of one part (file meta or data set), by tag; a tag found
/// twice is the later one (as the index's `find` takes it).
struct Elements<'a> {
    buf: &'a [u8],
    index: &'a Index,
    by_tag: Vec<(u32, u32)>,
}

impl<'a> Elements<'a> {
    fn new(buf: &'a [u8], index: &'a Index, start: u32, end: u32) -> Self {
        let mut by_tag: Vec<(u32, u32)> = index
            .siblings(start, end)
            .map(|i| (index.nodes[i as usize].tag, i))
            .collect();
        if !by_tag.windows(2).all(|w| w[0].0 < w[1].0) {
            by_tag.sort_by_key(|&(t, _)| t); // stable: of equal tags the later stays last
        }
        Elements { buf, index, by_tag }
    }

    fn node(&self, tag: u32) -> Option<u32> {
        let end = self.by_tag.partition_point(|&(t, _)| t <= tag);
        (end > 0 && self.by_tag[end - 1].0 == tag).then(|| self.by_tag[end - 1].1)
    }

    fn bytes(&self, i: u32) -> &'a [u8] {
        let n = &self.index.nodes[i as usize];
        &self.buf[n.value_offset as usize..n.end_offset as usize]
    }

    /// The value of a text element without its padding (spaces, and the NUL of a UID).
    fn text(&self, tag: u32) -> Option<&'a [u8]> {
        self.node(tag).map(|i| value::strip_spaces(self.bytes(i)))
    }

    fn uid(&self, tag: u32) -> Option<String> {
        self.text(tag)
            .filter(|t| !t.is_empty())
            .map(|t| String::from_utf8_lossy(t).trim().to_string())
    }

    /// Has the element no value (text of spaces only, no bytes, or a sequence of no items)?
    fn is_empty(&self, i: u32) -> bool {
        let n = &self.index.nodes[i as usize];
        if n.has(flags::SEQUENCE) || n.has(flags::UN_SEQUENCE) {
            return self.index.children(i).next().is_none();
        }
        let b = self.bytes(i);
        if vr::is_text(n.vr) {
            value::strip_spaces(b).is_empty()
        } else {
            b.is_empty()
        }
    }
}

fn facts(
    buf: &[u8],
    file: &dicomfast_core::DicomFile,
    tables: &Tables,
) -> Result<Facts, FileError> {
    let all = file.index.nodes.len() as u32;
    let ds = Elements::new(buf, &file.index, file.meta_nodes, all);
    let meta = Elements::new(buf, &file.index, 0, file.meta_nodes);
    let sop_class = ds.uid(SOP_CLASS).or_else(|| meta.uid(META_SOP_CLASS));
    let sop_uid = ds.uid(SOP_INSTANCE).or_else(|| meta.uid(META_SOP_INSTANCE));
    let record_type = tables
        .record_type(sop_class.as_deref().unwrap_or(""))
        .to_string();
    let writer = Writer {
        buf,
        index: &file.index,
        dst: Encoding::EXPLICIT_LE,
        resolver: DefaultResolver {
            pixel_representation: 0,
        },
    };
    let keys_of = |record_type: &str| -> Result<Keys, FileError> {
        record_keys(&ds, &writer, tables, record_type).map_err(FileError::Parse)
    };
    let [(patient, _), (study, _), (series, _)] = &tables.levels;
    let keys = [
        keys_of(patient)?,
        keys_of(study)?,
        keys_of(series)?,
        keys_of(&record_type)?,
    ];
    let ident = tables
        .levels
        .each_ref()
        .map(|(_, tag)| ds.text(*tag).map(<[u8]>::to_vec));
    Ok(Facts {
        sop_class,
        sop_uid,
        transfer_syntax: file.transfer_syntax.clone(),
        record_type,
        ident,
        keys,
    })
}

/// The keys of a record of `record_type` (PS3.3 F.5): type 1 present and not empty,
/// type 2 present (empty when absent), the others when present; in tag order.
fn record_keys<R: dicomfast_core::write::VrResolver>(
    ds: &Elements<'_>,
    writer: &Writer<'_, R>,
    tables: &Tables,
    record_type: &str,
) -> Result<Keys, ParseError> {
    let mut chosen: Vec<(u32, Option<u32>)> = Vec::new();
    for key in tables.keys_of(record_type) {
        let node = ds.node(key.tag);
        match (key.kind, node) {
            (Kind::Required, None) => return Ok(Err(missing(key))),
            (Kind::Required, Some(i)) if ds.is_empty(i) => return Ok(Err(missing(key))),
            (_, Some(i)) => chosen.push((key.tag, Some(i))),
            (Kind::Empty, None) => chosen.push((key.tag, None)),
            (Kind::Optional, None) => {}
        }
    }
    if record_type == tables.levels[1].0 {
        if let Some(i) = ds.node(STUDY_INSTANCE) {
            chosen.push((STUDY_INSTANCE, Some(i)));
        }
    }
    chosen.sort_by_key(|&(t, _)| t);
    chosen.dedup_by_key(|&mut (t, _)| t);
    let mut out = Vec::new();
    for (tag, node) in chosen {
        match node {
            Some(i) => writer.element(i, &mut out)?,
            None => {
                write_header(
                    &mut out,
                    tag,
                    dictionary::implicit_vr(tag).0,
                    0,
                    Encoding::EXPLICIT_LE,
                );
            }
        }
    }
    Ok(Ok(out))
}

fn missing(key: &crate::tables::Key) -> Missing {
    Missing {
        keyword: key.keyword.clone(),
        tag: key.tag,
    }
}

/// [`read`] each of `paths` on `threads` threads; the results in the order of
/// `paths`, each with the bytes of its file when it is small and `keep` (a budget
/// of bytes shared by the threads) allows.
pub fn read_all(
    paths: &[std::path::PathBuf],
    tables: &Tables,
    threads: usize,
    keep: Option<&AtomicU64>,
) -> Vec<Header> {
    crate::threads::map_in_order(paths, threads, |p, buf: &mut Vec<u8>| {
        read_with(p, tables, buf, keep)
    })
}
