//! The codec registry's transfer syntaxes as rows for `dicomfast.syntaxes`, the one
//! Python table of them.

use dicomfast_codec::registry::{self, TransferSyntax};
use pyo3::prelude::*;

/// `(uid, keyword, name, explicit_vr, big_endian, deflated, encapsulated, lossy, codec,
/// can_decode, can_encode)`; `codec` is the codec's name or None.
type Row = (
    &'static str,
    &'static str,
    &'static str,
    bool,
    bool,
    bool,
    bool,
    bool,
    Option<&'static str>,
    bool,
    bool,
);

fn row(t: &TransferSyntax) -> Row {
    (
        t.uid,
        t.keyword,
        t.name,
        t.explicit_vr,
        t.big_endian,
        t.deflated,
        t.encapsulated,
        t.lossy,
        t.codec.map(|c| c.name()),
        t.can_decode(),
        t.can_encode(),
    )
}

/// Every transfer syntax of the registry, in UID order.
#[pyfunction]
pub(super) fn transfer_syntaxes() -> Vec<Row> {
    registry::TRANSFER_SYNTAXES.iter().map(row).collect()
}

/// The registry's row for `uid`, or what an unknown UID is taken to be (its uid and
/// keyword empty).
#[pyfunction]
pub(super) fn transfer_syntax(uid: &str) -> Row {
    row(&registry::lookup(uid))
}
