//! P-DATA-TF (PS3.8 §9.3.5, Table 9-22), its Presentation Data Value items
//! (Table 9-23) and message control header (Annex E.2), plus fragmentation
//! of a DIMSE message into PDUs and reassembly of PDVs into messages
//! (PS3.8 Annex E; PS3.7 §6.3 / §9.3.1 for command-then-data ordering).

use crate::codec::{len_u32, Cursor};
use crate::dimse;
use crate::error::{PduError, Result};

/// Message control header bit 0: set = command information, clear = data set.
pub const MCH_COMMAND: u8 = 0x01;
/// Message control header bit 1: set = last fragment of the command or data set.
pub const MCH_LAST: u8 = 0x02;

/// Bytes in front of the value of one PDV in its own P-DATA-TF PDU: PDU
/// header (6) + PDV item length (4) + presentation context ID (1) + message
/// control header (1).
pub const PDV_PDU_HEADER_LEN: usize = 12;

fn mch(is_command: bool, is_last: bool) -> u8 {
    (if is_command { MCH_COMMAND } else { 0 }) | (if is_last { MCH_LAST } else { 0 })
}

/// An owned Presentation Data Value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdv {
    pub pc_id: u8,
    pub is_command: bool,
    pub is_last: bool,
    pub data: Vec<u8>,
}

/// A Presentation Data Value borrowing its value from the input buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdvRef<'a> {
    pub pc_id: u8,
    pub is_command: bool,
    pub is_last: bool,
    pub data: &'a [u8],
}

impl<'a> PdvRef<'a> {
    pub fn to_owned(&self) -> Pdv {
        Pdv {
            pc_id: self.pc_id,
            is_command: self.is_command,
            is_last: self.is_last,
            data: self.data.to_vec(),
        }
    }

    /// Message control header byte (Annex E.2).
    pub fn message_control_header(&self) -> u8 {
        mch(self.is_command, self.is_last)
    }
}

impl Pdv {
    pub fn as_ref(&self) -> PdvRef<'_> {
        PdvRef {
            pc_id: self.pc_id,
            is_command: self.is_command,
            is_last: self.is_last,
            data: &self.data,
        }
    }
}

/// An owned P-DATA-TF PDU.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PDataTf {
    pub pdvs: Vec<Pdv>,
}

/// A validated P-DATA-TF whose PDV values borrow from the input buffer.
/// Built by [`crate::read_pdu_ref`]; iterating cannot fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PDataTfRef<'a> {
    body: &'a [u8],
}

impl<'a> PDataTfRef<'a> {
    /// Validate the variable field of a P-DATA-TF (everything after the
    /// 6-byte PDU header): one or more PDV items, each with an item length of
    /// at least 2 that stays inside the PDU.
    pub(crate) fn decode_body(at: usize, c: Cursor<'a>) -> Result<Self> {
        let mut v = c;
        let body = c.rest();
        if v.is_empty() {
            return Err(PduError::MissingItem {
                offset: at,
                what: "presentation data value item",
            });
        }
        while !v.is_empty() {
            let pat = v.offset();
            let len = v.u32("PDV item length")? as usize;
            if len < 2 {
                return Err(PduError::TooShort {
                    offset: pat,
                    what: "PDV item length",
                    min: 2,
                    found: len,
                });
            }
            v.skip(len, "presentation data value item")?;
        }
        Ok(PDataTfRef { body })
    }

    /// The PDVs in wire order.
    pub fn pdvs(&self) -> PdvIter<'a> {
        PdvIter { rest: self.body }
    }

    pub fn to_owned(&self) -> PDataTf {
        PDataTf {
            pdvs: self.pdvs().map(|p| p.to_owned()).collect(),
        }
    }

    /// Length of the PDU's variable field (the PDU-length value).
    pub fn body_len(&self) -> usize {
        self.body.len()
    }
}

/// Iterator over the PDVs of a validated [`PDataTfRef`].
#[derive(Debug, Clone)]
pub struct PdvIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for PdvIter<'a> {
    type Item = PdvRef<'a>;

    fn next(&mut self) -> Option<PdvRef<'a>> {
        // The body was validated, but stay total: stop on anything odd.
        let (hdr, rest) = self.rest.split_first_chunk::<6>()?;
        let len = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]) as usize;
        let data_len = len.checked_sub(2)?;
        if data_len > rest.len() {
            return None;
        }
        let (data, rest) = rest.split_at(data_len);
        self.rest = rest;
        Some(PdvRef {
            pc_id: hdr[4],
            is_command: hdr[5] & MCH_COMMAND != 0,
            is_last: hdr[5] & MCH_LAST != 0,
            data,
        })
    }
}

impl PDataTf {
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) -> Result<()> {
        for p in &self.pdvs {
            encode_pdv(out, p.as_ref())?;
        }
        Ok(())
    }
}

/// Append one PDV item (Table 9-23).
pub fn encode_pdv(out: &mut Vec<u8>, p: PdvRef<'_>) -> Result<()> {
    let len = len_u32("PDV", p.data.len().saturating_add(2))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.push(p.pc_id);
    out.push(p.message_control_header());
    out.extend_from_slice(p.data);
    Ok(())
}

/// One P-DATA-TF PDU carrying a single PDV: the 12 header bytes and the
/// slice of the message body that follows them on the wire. Write
/// `header` then `data` (e.g. as two `IoSlice`s) to send it without copying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub header: [u8; PDV_PDU_HEADER_LEN],
    pub data: &'a [u8],
}

impl<'a> Fragment<'a> {
    /// The PDV this fragment carries.
    pub fn pdv(&self) -> PdvRef<'a> {
        PdvRef {
            pc_id: self.header[10],
            is_command: self.header[11] & MCH_COMMAND != 0,
            is_last: self.header[11] & MCH_LAST != 0,
            data: self.data,
        }
    }
}

/// Iterator produced by [`fragment`].
#[derive(Debug, Clone)]
pub struct Fragments<'a> {
    pc_id: u8,
    is_command: bool,
    rest: &'a [u8],
    chunk: usize,
    done: bool,
}

/// Split a command set or data set into P-DATA-TF PDUs of one PDV each,
/// none of whose PDU length exceeds `max_pdu_len` (the peer's Maximum
/// Length sub-item, PS3.8 D.1; 0 = unlimited). An empty body yields one
/// empty last fragment.
pub fn fragment(
    pc_id: u8,
    is_command: bool,
    body: &[u8],
    max_pdu_len: u32,
) -> Result<Fragments<'_>> {
    // PDU length = PDV item length field (4) + context id (1) + MCH (1) + data.
    let chunk = if max_pdu_len == 0 {
        (u32::MAX - 6) as usize
    } else if max_pdu_len <= 6 {
        return Err(PduError::MaxLengthTooSmall { max_pdu_len });
    } else {
        (max_pdu_len - 6) as usize
    };
    Ok(Fragments {
        pc_id,
        is_command,
        rest: body,
        chunk,
        done: false,
    })
}

impl<'a> Iterator for Fragments<'a> {
    type Item = Fragment<'a>;

    fn next(&mut self) -> Option<Fragment<'a>> {
        if self.done {
            return None;
        }
        let n = self.rest.len().min(self.chunk);
        let (data, rest) = self.rest.split_at(n);
        self.rest = rest;
        let last = rest.is_empty();
        self.done = last;
        let pdv_len = (n + 2) as u32; // n <= u32::MAX - 6
        let pdu_len = pdv_len + 4;
        let mut header = [0u8; PDV_PDU_HEADER_LEN];
        header[0] = crate::pdu::P_DATA_TF;
        header[2..6].copy_from_slice(&pdu_len.to_be_bytes());
        header[6..10].copy_from_slice(&pdv_len.to_be_bytes());
        header[10] = self.pc_id;
        header[11] = mch(self.is_command, last);
        Some(Fragment { header, data })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = if self.done {
            0
        } else {
            self.rest.len().div_ceil(self.chunk).max(1)
        };
        (n, Some(n))
    }
}

/// Fragment `body` and append the encoded PDUs to `out`.
pub fn fragment_into(
    pc_id: u8,
    is_command: bool,
    body: &[u8],
    max_pdu_len: u32,
    out: &mut Vec<u8>,
) -> Result<()> {
    let frags = fragment(pc_id, is_command, body, max_pdu_len)?;
    out.reserve(body.len() + frags.size_hint().0 * PDV_PDU_HEADER_LEN);
    for f in frags {
        out.extend_from_slice(&f.header);
        out.extend_from_slice(f.data);
    }
    Ok(())
}

/// Fragment `body` into owned [`PDataTf`] values (copies the body).
pub fn fragment_pdus(
    pc_id: u8,
    is_command: bool,
    body: &[u8],
    max_pdu_len: u32,
) -> Result<Vec<PDataTf>> {
    Ok(fragment(pc_id, is_command, body, max_pdu_len)?
        .map(|f| PDataTf {
            pdvs: vec![f.pdv().to_owned()],
        })
        .collect())
}

/// Which half of a DIMSE message a reassembled buffer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessagePart {
    Command,
    Data,
}

/// A complete command set or data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassembled {
    pub pc_id: u8,
    pub part: MessagePart,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Command {
        pc: u8,
    },
    /// A command set is complete; `expects_data` comes from its Command Data
    /// Set Type (0000,0800) when that could be parsed.
    AfterCommand {
        pc: u8,
        expects_data: Option<bool>,
    },
    Data {
        pc: u8,
    },
}

/// Turns a stream of PDVs back into command sets and data sets.
///
/// Enforces: fragments of one message are not interleaved with another
/// presentation context; a data set follows a complete command set on the
/// same context (and only when the command set announces one, if its Command
/// Data Set Type can be read); no command starts while a data set is
/// incomplete or still owed; each buffer stays within `max_message_len`.
#[derive(Debug, Clone)]
pub struct Reassembler {
    state: State,
    buf: Vec<u8>,
    max_message_len: usize,
}

impl Default for Reassembler {
    fn default() -> Self {
        Self::new(usize::MAX)
    }
}

impl Reassembler {
    pub fn new(max_message_len: usize) -> Self {
        Reassembler {
            state: State::Idle,
            buf: Vec::new(),
            max_message_len,
        }
    }

    /// True when no fragment of an unfinished message is buffered and no
    /// data set is owed.
    pub fn is_idle(&self) -> bool {
        matches!(
            self.state,
            State::Idle
                | State::AfterCommand {
                    expects_data: Some(false) | None,
                    ..
                }
        )
    }

    /// Forget any partial message.
    pub fn reset(&mut self) {
        self.state = State::Idle;
        self.buf = Vec::new();
    }

    fn append(&mut self, pc: u8, data: &[u8]) -> Result<()> {
        if data.len() > self.max_message_len.saturating_sub(self.buf.len()) {
            return Err(PduError::MessageTooLarge {
                pc_id: pc,
                limit: self.max_message_len,
            });
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Feed one PDV; returns a buffer when it completes a command set or a
    /// data set. On error the reassembler is left unchanged.
    pub fn push(&mut self, pdv: PdvRef<'_>) -> Result<Option<Reassembled>> {
        let pc = pdv.pc_id;
        // Validate the transition first.
        match (self.state, pdv.is_command) {
            (State::Idle, false) => return Err(PduError::DataBeforeCommand { pc_id: pc }),
            (State::Command { pc: cur }, _) if cur != pc => {
                return Err(PduError::ContextChanged {
                    expected: cur,
                    found: pc,
                })
            }
            (State::Command { .. }, false) => {
                return Err(PduError::DataBeforeCommand { pc_id: pc })
            }
            (
                State::AfterCommand {
                    pc: cur,
                    expects_data: Some(true),
                },
                true,
            ) => return Err(PduError::MissingDataSet { pc_id: cur }),
            (State::AfterCommand { pc: cur, .. }, false) if cur != pc => {
                return Err(PduError::ContextChanged {
                    expected: cur,
                    found: pc,
                })
            }
            (
                State::AfterCommand {
                    expects_data: Some(false),
                    ..
                },
                false,
            ) => return Err(PduError::DataBeforeCommand { pc_id: pc }),
            (State::Data { pc: cur }, _) if cur != pc => {
                return Err(PduError::ContextChanged {
                    expected: cur,
                    found: pc,
                })
            }
            (State::Data { .. }, true) => return Err(PduError::CommandDuringData { pc_id: pc }),
            _ => {}
        }
        self.append(pc, pdv.data)?;
        if !pdv.is_last {
            self.state = if pdv.is_command {
                State::Command { pc }
            } else {
                State::Data { pc }
            };
            return Ok(None);
        }
        let bytes = std::mem::take(&mut self.buf);
        if pdv.is_command {
            let expects_data = dimse::command_has_data_set(&bytes);
            self.state = State::AfterCommand { pc, expects_data };
            Ok(Some(Reassembled {
                pc_id: pc,
                part: MessagePart::Command,
                bytes,
            }))
        } else {
            self.state = State::Idle;
            Ok(Some(Reassembled {
                pc_id: pc,
                part: MessagePart::Data,
                bytes,
            }))
        }
    }

    /// Feed every PDV of a P-DATA-TF; returns the buffers it completed.
    pub fn push_pdata(&mut self, pdata: &PDataTfRef<'_>) -> Result<Vec<Reassembled>> {
        let mut done = Vec::new();
        for p in pdata.pdvs() {
            if let Some(r) = self.push(p)? {
                done.push(r);
            }
        }
        Ok(done)
    }
}
