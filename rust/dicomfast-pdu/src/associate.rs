//! A-ASSOCIATE-RQ (PS3.8 §9.3.2, Table 9-11), A-ASSOCIATE-AC (§9.3.3,
//! Table 9-17), A-ASSOCIATE-RJ (§9.3.4, Table 9-21) and the items they carry:
//! Application Context (Tables 9-12 / 9-18), Presentation Context RQ/AC
//! (Tables 9-13 / 9-18), Abstract Syntax (Table 9-14) and Transfer Syntax
//! (Tables 9-15 / 9-19) sub-items.

use crate::codec::{ae_title, check_text, put_ae_title, put_item, put_u16, text, Cursor};
use crate::error::{PduError, Result};
use crate::user_info::{UserInformation, USER_INFORMATION_ITEM};

/// Item types of PS3.8 §9.3.2.
pub const APPLICATION_CONTEXT_ITEM: u8 = 0x10;
pub const PRESENTATION_CONTEXT_RQ_ITEM: u8 = 0x20;
pub const PRESENTATION_CONTEXT_AC_ITEM: u8 = 0x21;
pub const ABSTRACT_SYNTAX_ITEM: u8 = 0x30;
pub const TRANSFER_SYNTAX_ITEM: u8 = 0x40;

/// The DICOM Application Context Name (PS3.7 Annex A.2.1).
pub const DICOM_APPLICATION_CONTEXT: &str = "1.2.840.10008.3.1.1.1";

/// A presentation context proposed in an A-ASSOCIATE-RQ (Table 9-13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationContextRq {
    /// Odd number 1..=255.
    pub id: u8,
    pub abstract_syntax: String,
    /// One or more proposed transfer syntaxes.
    pub transfer_syntaxes: Vec<String>,
}

/// Result/Reason of a presentation context in an A-ASSOCIATE-AC (Table 9-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PresentationContextResult {
    Acceptance,
    UserRejection,
    NoReason,
    AbstractSyntaxNotSupported,
    TransferSyntaxesNotSupported,
    Other(u8),
}

impl PresentationContextResult {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Acceptance,
            1 => Self::UserRejection,
            2 => Self::NoReason,
            3 => Self::AbstractSyntaxNotSupported,
            4 => Self::TransferSyntaxesNotSupported,
            x => Self::Other(x),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::Acceptance => 0,
            Self::UserRejection => 1,
            Self::NoReason => 2,
            Self::AbstractSyntaxNotSupported => 3,
            Self::TransferSyntaxesNotSupported => 4,
            Self::Other(x) => x,
        }
    }
}

/// A presentation context answered in an A-ASSOCIATE-AC (Table 9-18).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentationContextAc {
    pub id: u8,
    pub result: PresentationContextResult,
    /// The accepted transfer syntax. The standard makes the sub-item
    /// mandatory but its value not significant when the result is not
    /// acceptance; `None` means the sub-item was absent.
    pub transfer_syntax: Option<String>,
}

/// A-ASSOCIATE-RQ PDU (PS3.8 Table 9-11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociateRq {
    /// Bit 0 set = version 1 (the only one defined).
    pub protocol_version: u16,
    pub called_ae_title: String,
    pub calling_ae_title: String,
    pub application_context: String,
    pub presentation_contexts: Vec<PresentationContextRq>,
    pub user_information: UserInformation,
}

/// A-ASSOCIATE-AC PDU (PS3.8 Table 9-17). The AE title fields are reserved
/// in the AC but echo the request's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociateAc {
    pub protocol_version: u16,
    pub called_ae_title: String,
    pub calling_ae_title: String,
    pub application_context: String,
    pub presentation_contexts: Vec<PresentationContextAc>,
    pub user_information: UserInformation,
}

/// A-ASSOCIATE-RJ Result field (Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectResult {
    Permanent,
    Transient,
    Other(u8),
}

impl RejectResult {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Permanent,
            2 => Self::Transient,
            x => Self::Other(x),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Self::Permanent => 1,
            Self::Transient => 2,
            Self::Other(x) => x,
        }
    }
}

/// A-ASSOCIATE-RJ Source field (Table 9-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectSource {
    /// DICOM UL service-user.
    ServiceUser,
    /// DICOM UL service-provider (ACSE related function).
    ServiceProviderAcse,
    /// DICOM UL service-provider (presentation related function).
    ServiceProviderPresentation,
    Other(u8),
}

impl RejectSource {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::ServiceUser,
            2 => Self::ServiceProviderAcse,
            3 => Self::ServiceProviderPresentation,
            x => Self::Other(x),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Self::ServiceUser => 1,
            Self::ServiceProviderAcse => 2,
            Self::ServiceProviderPresentation => 3,
            Self::Other(x) => x,
        }
    }
}

/// A-ASSOCIATE-RJ PDU (PS3.8 Table 9-21). `reason` is kept raw since its
/// meaning depends on `source` (e.g. source 1: 1 no reason, 2 application
/// context not supported, 3 calling AE not recognized, 7 called AE not
/// recognized).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssociateRj {
    pub result: RejectResult,
    pub source: RejectSource,
    pub reason: u8,
}

impl AssociateRj {
    pub(crate) fn decode_body(at: usize, mut c: Cursor<'_>) -> Result<Self> {
        if c.remaining() != 4 {
            return Err(PduError::BadFixedLength {
                offset: at,
                what: "A-ASSOCIATE-RJ",
                expected: 4,
                found: c.remaining(),
            });
        }
        c.skip(1, "reserved")?;
        Ok(AssociateRj {
            result: RejectResult::from_u8(c.u8("result")?),
            source: RejectSource::from_u8(c.u8("source")?),
            reason: c.u8("reason")?,
        })
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        out.extend_from_slice(&[0, self.result.to_u8(), self.source.to_u8(), self.reason]);
        Ok(())
    }
}

/// Item types PS3.8 §9.3 defines for the association PDUs. Such an item in
/// the wrong place is an error; any other type is skipped on read.
fn is_defined_item(t: u8) -> bool {
    matches!(
        t,
        APPLICATION_CONTEXT_ITEM
            | PRESENTATION_CONTEXT_RQ_ITEM
            | PRESENTATION_CONTEXT_AC_ITEM
            | ABSTRACT_SYNTAX_ITEM
            | TRANSFER_SYNTAX_ITEM
            | USER_INFORMATION_ITEM
    )
}

/// Fields shared by the RQ and AC fixed part (Tables 9-11 and 9-17).
struct Fixed {
    protocol_version: u16,
    called: String,
    calling: String,
}

fn decode_fixed(c: &mut Cursor<'_>) -> Result<Fixed> {
    let protocol_version = c.u16("protocol version")?;
    c.skip(2, "reserved")?;
    let at = c.offset();
    let called = ae_title(c.take(16, "called AE title")?, at)?;
    let at = c.offset();
    let calling = ae_title(c.take(16, "calling AE title")?, at)?;
    c.skip(32, "reserved")?;
    Ok(Fixed {
        protocol_version,
        called,
        calling,
    })
}

fn encode_fixed(out: &mut Vec<u8>, version: u16, called: &str, calling: &str) -> Result<()> {
    put_u16(out, version);
    put_u16(out, 0);
    put_ae_title(out, called)?;
    put_ae_title(out, calling)?;
    out.extend_from_slice(&[0u8; 32]);
    Ok(())
}

fn uid_item(body: Cursor<'_>, what: &'static str) -> Result<String> {
    let at = body.offset();
    let mut body = body;
    let b = body.take(body.remaining(), what)?;
    text(b, at, what)
}

fn put_uid_item(out: &mut Vec<u8>, item_type: u8, what: &'static str, uid: &str) -> Result<()> {
    check_text(uid, what)?;
    put_item(out, item_type, 0, what, |out| {
        out.extend_from_slice(uid.as_bytes());
        Ok(())
    })
}

/// Encoding: presentation context IDs must be unique within the PDU (see
/// `decode_variable`).
fn unique_ids(ids: impl Iterator<Item = u8>) -> Result<()> {
    let mut seen = [false; 256];
    for id in ids {
        if std::mem::replace(&mut seen[usize::from(id)], true) {
            return Err(PduError::InvalidField {
                what: "presentation context ID",
                reason: "two presentation contexts share one ID",
            });
        }
    }
    Ok(())
}

/// Decodes the variable part shared by RQ and AC, delegating presentation
/// context items to `pc`.
fn decode_variable<P>(
    pdu_at: usize,
    c: &mut Cursor<'_>,
    pc_type: u8,
    context: &'static str,
    mut pc: impl FnMut(usize, Cursor<'_>) -> Result<P>,
    id_of: impl Fn(&P) -> u8,
) -> Result<(String, Vec<P>, UserInformation)> {
    let mut app = None;
    let mut pcs = Vec::new();
    // PS3.8 §9.3.2.2 / §9.3.3.2: each presentation context has its own ID; two
    // with one ID would make every P-DATA on it ambiguous.
    let mut seen = [false; 256];
    let mut ui = None;
    while !c.is_empty() {
        let (at, item_type, _, body) = c.item()?;
        match item_type {
            APPLICATION_CONTEXT_ITEM => {
                if app.is_some() {
                    return Err(PduError::DuplicateItem {
                        offset: at,
                        item_type,
                    });
                }
                app = Some(uid_item(body, "application context name")?);
            }
            t if t == pc_type => {
                let p = pc(at, body)?;
                let id = id_of(&p);
                if std::mem::replace(&mut seen[usize::from(id)], true) {
                    return Err(PduError::DuplicateContextId { offset: at, id });
                }
                pcs.push(p);
            }
            USER_INFORMATION_ITEM => {
                if ui.is_some() {
                    return Err(PduError::DuplicateItem {
                        offset: at,
                        item_type,
                    });
                }
                ui = Some(UserInformation::decode(body)?);
            }
            t if is_defined_item(t) => {
                return Err(PduError::UnexpectedItem {
                    offset: at,
                    item_type,
                    context,
                });
            }
            // PS3.8 §9.3.1: items of unrecognized types are ignored and skipped.
            _ => {}
        }
    }
    let app = app.ok_or(PduError::MissingItem {
        offset: pdu_at,
        what: "application context item",
    })?;
    let ui = ui.ok_or(PduError::MissingItem {
        offset: pdu_at,
        what: "user information item",
    })?;
    Ok((app, pcs, ui))
}

impl PresentationContextRq {
    fn decode(at: usize, mut c: Cursor<'_>) -> Result<Self> {
        let id = c.u8("presentation context ID")?;
        c.skip(3, "reserved")?;
        let mut abstract_syntax = None;
        let mut transfer_syntaxes = Vec::new();
        while !c.is_empty() {
            let (sat, item_type, _, body) = c.item()?;
            match item_type {
                ABSTRACT_SYNTAX_ITEM => {
                    if abstract_syntax.is_some() {
                        return Err(PduError::DuplicateItem {
                            offset: sat,
                            item_type,
                        });
                    }
                    abstract_syntax = Some(uid_item(body, "abstract syntax name")?);
                }
                TRANSFER_SYNTAX_ITEM => {
                    transfer_syntaxes.push(uid_item(body, "transfer syntax name")?)
                }
                t if is_defined_item(t) => {
                    return Err(PduError::UnexpectedItem {
                        offset: sat,
                        item_type,
                        context: "presentation context (RQ)",
                    })
                }
                // Unrecognized item types are skipped (PS3.8 §9.3.1).
                _ => {}
            }
        }
        let abstract_syntax = abstract_syntax.ok_or(PduError::MissingItem {
            offset: at,
            what: "abstract syntax sub-item",
        })?;
        if transfer_syntaxes.is_empty() {
            return Err(PduError::MissingItem {
                offset: at,
                what: "transfer syntax sub-item",
            });
        }
        Ok(PresentationContextRq {
            id,
            abstract_syntax,
            transfer_syntaxes,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_item(
            out,
            PRESENTATION_CONTEXT_RQ_ITEM,
            0,
            "presentation context item",
            |out| {
                out.extend_from_slice(&[self.id, 0, 0, 0]);
                put_uid_item(
                    out,
                    ABSTRACT_SYNTAX_ITEM,
                    "abstract syntax name",
                    &self.abstract_syntax,
                )?;
                for ts in &self.transfer_syntaxes {
                    put_uid_item(out, TRANSFER_SYNTAX_ITEM, "transfer syntax name", ts)?;
                }
                Ok(())
            },
        )
    }
}

impl PresentationContextAc {
    fn decode(_at: usize, mut c: Cursor<'_>) -> Result<Self> {
        let id = c.u8("presentation context ID")?;
        c.skip(1, "reserved")?;
        let result = PresentationContextResult::from_u8(c.u8("result/reason")?);
        c.skip(1, "reserved")?;
        let mut transfer_syntax = None;
        while !c.is_empty() {
            let (sat, item_type, _, body) = c.item()?;
            match item_type {
                TRANSFER_SYNTAX_ITEM if transfer_syntax.is_none() => {
                    transfer_syntax = Some(uid_item(body, "transfer syntax name")?)
                }
                TRANSFER_SYNTAX_ITEM => {
                    return Err(PduError::DuplicateItem {
                        offset: sat,
                        item_type,
                    })
                }
                t if is_defined_item(t) => {
                    return Err(PduError::UnexpectedItem {
                        offset: sat,
                        item_type,
                        context: "presentation context (AC)",
                    })
                }
                // Unrecognized item types are skipped (PS3.8 §9.3.1).
                _ => {}
            }
        }
        Ok(PresentationContextAc {
            id,
            result,
            transfer_syntax,
        })
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_item(
            out,
            PRESENTATION_CONTEXT_AC_ITEM,
            0,
            "presentation context item",
            |out| {
                out.extend_from_slice(&[self.id, 0, self.result.to_u8(), 0]);
                if let Some(ts) = &self.transfer_syntax {
                    put_uid_item(out, TRANSFER_SYNTAX_ITEM, "transfer syntax name", ts)?;
                }
                Ok(())
            },
        )
    }
}

impl AssociateRq {
    pub(crate) fn decode_body(at: usize, mut c: Cursor<'_>) -> Result<Self> {
        let f = decode_fixed(&mut c)?;
        let (application_context, presentation_contexts, user_information) = decode_variable(
            at,
            &mut c,
            PRESENTATION_CONTEXT_RQ_ITEM,
            "A-ASSOCIATE-RQ",
            PresentationContextRq::decode,
            |p| p.id,
        )?;
        Ok(AssociateRq {
            protocol_version: f.protocol_version,
            called_ae_title: f.called,
            calling_ae_title: f.calling,
            application_context,
            presentation_contexts,
            user_information,
        })
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_fixed(
            out,
            self.protocol_version,
            &self.called_ae_title,
            &self.calling_ae_title,
        )?;
        put_uid_item(
            out,
            APPLICATION_CONTEXT_ITEM,
            "application context name",
            &self.application_context,
        )?;
        unique_ids(self.presentation_contexts.iter().map(|p| p.id))?;
        for pc in &self.presentation_contexts {
            pc.encode(out)?;
        }
        self.user_information.encode(out)
    }
}

impl AssociateAc {
    pub(crate) fn decode_body(at: usize, mut c: Cursor<'_>) -> Result<Self> {
        let f = decode_fixed(&mut c)?;
        let (application_context, presentation_contexts, user_information) = decode_variable(
            at,
            &mut c,
            PRESENTATION_CONTEXT_AC_ITEM,
            "A-ASSOCIATE-AC",
            PresentationContextAc::decode,
            |p| p.id,
        )?;
        Ok(AssociateAc {
            protocol_version: f.protocol_version,
            called_ae_title: f.called,
            calling_ae_title: f.calling,
            application_context,
            presentation_contexts,
            user_information,
        })
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        encode_fixed(
            out,
            self.protocol_version,
            &self.called_ae_title,
            &self.calling_ae_title,
        )?;
        put_uid_item(
            out,
            APPLICATION_CONTEXT_ITEM,
            "application context name",
            &self.application_context,
        )?;
        unique_ids(self.presentation_contexts.iter().map(|p| p.id))?;
        for pc in &self.presentation_contexts {
            pc.encode(out)?;
        }
        self.user_information.encode(out)
    }
}
