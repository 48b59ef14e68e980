//! dicomfast-deid: the per-element de-identification pass of `dicomfast anonymize` over a
//! parsed element index ([`dicomfast_core::Index`]), writing the output Part 10 file in
//! one walk.  It does what `dicomfast.deid.engine` does, byte for byte: the caller
//! compiles the profile (the action of every tag, from the generated PS3.15 Table
//! E.1-1), the dummy value of every VR, the text VRs and coded attributes, and hands
//! them over as a [`Profile`]; nothing here knows a tag's action or a dummy by itself.  What the pass does not do it refuses with [`Unsupported`] (the caller then
//! runs the Python engine):
//!
//! - a source that is deflated or big endian, or an output in another transfer syntax;
//! - a sequence encoded as UN, an item that is not an item;
//! - non-ASCII bytes in a UID, a date or date-time the pass changes, or in a
//!   replacement text (patient map names);
//! - clean (C) of text that is not plain ASCII (escape sequences included), or of any
//!   text in a data set whose default character set may not read ASCII as ASCII (JIS X
//!   0201, unknown terms), or with identifying words that are not plain ASCII: Python's
//!   case folding of other text is not mirrored.

mod dates;
mod keyed;
mod walk;

pub use dates::{shift_da, shift_dt};
pub use keyed::KeyedHash;
pub use walk::{deidentify, Source};

use dicomfast_core::vr::Vr;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// What the compiled profile does with an attribute (PS3.15 Table E.1-1 letters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// X: removed.
    Remove,
    /// Z: zero-length value.
    Zero,
    /// D: a dummy value of the VR.
    Dummy,
    /// U: UIDs replaced by their keyed hash.
    Uid,
    /// K: kept (a sequence's items are de-identified).
    Keep,
    /// C: cleaned (dates moved when the dates are modified).
    Clean,
    /// X/Z/U*: a sequence kept with its items de-identified; UIDs replaced.
    UidSequence,
}

impl Action {
    /// The action named by the letter the Python profile compiler uses.
    pub fn from_letter(letter: &str) -> Option<Action> {
        Some(match letter {
            "X" => Action::Remove,
            "Z" => Action::Zero,
            "D" => Action::Dummy,
            "U" => Action::Uid,
            "K" => Action::Keep,
            "C" => Action::Clean,
            "R" => Action::UidSequence,
            _ => return None,
        })
    }
}

/// (code value, coding scheme designator, code meaning) of CID 7050.
pub type MethodCode = (String, String, String);

/// The compiled profile and the run's key: built once per run.
pub struct Profile {
    /// Exact tag -> action.
    pub actions: HashMap<u32, Action>,
    /// (mask, value, action) of the repeating groups (curves and overlays).
    pub masked: Vec<(u32, u32, Action)>,
    /// Action of every private attribute (odd group).
    pub private: Action,
    /// Action of every overlay element (60xx).
    pub overlay: Action,
    pub keyed: KeyedHash,
    /// UIDs kept as they are (the PS3.6 registry: SOP classes, well-known frames...).
    pub registry: HashSet<&'static str>,
    /// The De-identification Method Code Sequence items.
    pub method_codes: Vec<MethodCode>,
    /// Longitudinal Temporal Information Modified (0028,0303).
    pub temporal_state: String,
    /// Implementation Class UID and Version Name of the file meta.
    pub implementation: (String, String),
    /// The dummy value (D) of each VR, as the writer encodes it (even length).
    pub dummies: HashMap<Vr, Vec<u8>>,
    /// The free-text VRs (cleaned, or dummied inside a sequence whose action is D).
    pub text_vrs: HashSet<Vr>,
    /// Coded-entry attributes: not free text.
    pub code_tags: HashSet<u32>,
    /// Identifying words shorter than this are not deleted by cleaning.
    pub min_scrub: usize,
}

impl Profile {
    /// The keyed replacement of `uid` (empty and registry UIDs are kept).
    pub fn map_uid(&self, uid: &str) -> String {
        let uid = uid.trim_matches([' ', '\0']);
        if uid.is_empty() || self.registry.contains(uid) {
            uid.to_string()
        } else {
            self.keyed.uid(uid)
        }
    }

    /// The action the Python walk gives `tag` (None: not named by the table).
    fn action(&self, tag: u32) -> Option<Action> {
        if let Some(&a) = self.actions.get(&tag) {
            return Some(a);
        }
        let group = tag >> 16;
        if group & 1 == 1 {
            return Some(self.private);
        }
        if !matches!(tag >> 24, 0x50 | 0x60) {
            return None;
        }
        if group & 0xFF01 == 0x6000 {
            return Some(self.overlay);
        }
        self.masked
            .iter()
            .find(|(mask, value, _)| tag & mask == *value)
            .map(|m| m.2)
    }
}

/// This data set's patient: the replacements and the date offset (negative: back).
pub struct Patient {
    pub new_id: String,
    pub new_name: String,
    pub offset_days: i64,
}

/// One piece of the output file, in order.
#[derive(Debug, PartialEq, Eq)]
pub enum Part {
    Bytes(Vec<u8>),
    /// A range of the source buffer taken unchanged (pixel data, say): not copied.
    Source(Range<usize>),
}

/// A new top-level value the caller needs (output path, resume check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Absent,
    /// The text (values joined by backslash; empty for a zero-length value).
    Text(String),
}

/// The de-identified file.
pub struct Output {
    pub parts: Vec<Part>,
    pub study_uid: Value,
    pub series_uid: Value,
    pub sop_instance_uid: Value,
}

/// Why the pass left a data set to the Python engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);
