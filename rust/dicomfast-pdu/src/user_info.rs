//! User Information item (PS3.8 §9.3.2.3 / §9.3.3.3, item type 0x50) and its
//! sub-items (PS3.8 Annex D.1 and D.3.3, PS3.7 Annex D.3.3).

use crate::codec::{check_text, put_item, put_u16, put_u16_prefixed, put_u32, text, Cursor};
use crate::error::{PduError, Result};

/// Item type of the User Information item.
pub const USER_INFORMATION_ITEM: u8 = 0x50;

/// One sub-item of the User Information item, in wire order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserItem {
    /// 0x51, Maximum Length (PS3.8 D.1, Table D.1-1): the largest PDU-length
    /// value of a P-DATA-TF the sender is willing to receive; 0 = no limit.
    MaxLength(u32),
    /// 0x52, Implementation Class UID (PS3.7 D.3.3.2, Table D.3-1).
    ImplementationClassUid(String),
    /// 0x53, Asynchronous Operations Window (PS3.7 D.3.3.3, Table D.3-7).
    AsyncOpsWindow {
        max_invoked: u16,
        max_performed: u16,
    },
    /// 0x54, SCP/SCU Role Selection (PS3.7 D.3.3.4, Table D.3-9).
    RoleSelection {
        sop_class_uid: String,
        scu_role: bool,
        scp_role: bool,
    },
    /// 0x55, Implementation Version Name (PS3.7 D.3.3.2, Table D.3-3).
    ImplementationVersionName(String),
    /// 0x56, SOP Class Extended Negotiation (PS3.7 D.3.3.5, Table D.3-11).
    SopClassExtended {
        sop_class_uid: String,
        service_class_info: Vec<u8>,
    },
    /// 0x57, SOP Class Common Extended Negotiation (PS3.7 D.3.3.6,
    /// Table D.3-12), with its related general SOP class UIDs (Table D.3-13).
    SopClassCommonExtended {
        /// Sub-item version (byte 2 of the header); 0 in the current standard.
        version: u8,
        sop_class_uid: String,
        service_class_uid: String,
        related_general_sop_classes: Vec<String>,
    },
    /// 0x58, User Identity Negotiation, request form (PS3.7 D.3.3.7,
    /// Table D.3-14).
    UserIdentityRq {
        /// 1 username, 2 username+passcode, 3 Kerberos, 4 SAML, 5 JWT.
        identity_type: u8,
        positive_response_requested: bool,
        primary_field: Vec<u8>,
        secondary_field: Vec<u8>,
    },
    /// 0x59, User Identity Negotiation, acceptance form (PS3.7 D.3.3.7,
    /// Table D.3-15).
    UserIdentityAc { server_response: Vec<u8> },
    /// Any other sub-item type, preserved byte for byte.
    Unknown {
        item_type: u8,
        reserved: u8,
        data: Vec<u8>,
    },
}

/// The User Information item: an ordered list of sub-items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInformation {
    pub items: Vec<UserItem>,
}

impl UserInformation {
    /// Sub-items of a typical request/accept: maximum length, implementation
    /// class UID and (if non-empty) implementation version name.
    pub fn new(max_length: u32, implementation_class_uid: &str, version_name: &str) -> Self {
        let mut items = vec![
            UserItem::MaxLength(max_length),
            UserItem::ImplementationClassUid(implementation_class_uid.to_owned()),
        ];
        if !version_name.is_empty() {
            items.push(UserItem::ImplementationVersionName(version_name.to_owned()));
        }
        UserInformation { items }
    }

    /// The Maximum Length sub-item's value, if present.
    pub fn max_length(&self) -> Option<u32> {
        self.items.iter().find_map(|i| match i {
            UserItem::MaxLength(v) => Some(*v),
            _ => None,
        })
    }

    /// The Implementation Class UID, if present.
    pub fn implementation_class_uid(&self) -> Option<&str> {
        self.items.iter().find_map(|i| match i {
            UserItem::ImplementationClassUid(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// The Implementation Version Name, if present.
    pub fn implementation_version_name(&self) -> Option<&str> {
        self.items.iter().find_map(|i| match i {
            UserItem::ImplementationVersionName(v) => Some(v.as_str()),
            _ => None,
        })
    }

    /// Decode the body of a User Information item (after its 4-byte header).
    pub(crate) fn decode(mut c: Cursor<'_>) -> Result<Self> {
        let mut items = Vec::new();
        while !c.is_empty() {
            let (at, item_type, reserved, body) = c.item()?;
            items.push(UserItem::decode(at, item_type, reserved, body)?);
        }
        Ok(UserInformation { items })
    }

    /// Append the whole item (header included).
    pub(crate) fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        put_item(
            out,
            USER_INFORMATION_ITEM,
            0,
            "user information item",
            |out| {
                for item in &self.items {
                    item.encode(out)?;
                }
                Ok(())
            },
        )
    }
}

fn fixed_len(at: usize, what: &'static str, c: &Cursor<'_>, expected: usize) -> Result<()> {
    if c.remaining() != expected {
        return Err(PduError::BadFixedLength {
            offset: at,
            what,
            expected,
            found: c.remaining(),
        });
    }
    Ok(())
}

fn uid_field(c: &mut Cursor<'_>, what: &'static str) -> Result<String> {
    let (at, b) = c.u16_prefixed(what)?;
    text(b, at, what)
}

fn no_trailing(at: usize, what: &'static str, c: &Cursor<'_>) -> Result<()> {
    if c.is_empty() {
        Ok(())
    } else {
        Err(PduError::BadFixedLength {
            offset: at,
            what,
            expected: 0,
            found: c.remaining(),
        })
    }
}

impl UserItem {
    /// The sub-item type byte.
    pub fn item_type(&self) -> u8 {
        match self {
            UserItem::MaxLength(_) => 0x51,
            UserItem::ImplementationClassUid(_) => 0x52,
            UserItem::AsyncOpsWindow { .. } => 0x53,
            UserItem::RoleSelection { .. } => 0x54,
            UserItem::ImplementationVersionName(_) => 0x55,
            UserItem::SopClassExtended { .. } => 0x56,
            UserItem::SopClassCommonExtended { .. } => 0x57,
            UserItem::UserIdentityRq { .. } => 0x58,
            UserItem::UserIdentityAc { .. } => 0x59,
            UserItem::Unknown { item_type, .. } => *item_type,
        }
    }

    fn decode(at: usize, item_type: u8, reserved: u8, mut c: Cursor<'_>) -> Result<Self> {
        let body_at = c.offset();
        let item = match item_type {
            0x51 => {
                fixed_len(at, "maximum length sub-item", &c, 4)?;
                UserItem::MaxLength(c.u32("maximum length")?)
            }
            0x52 => {
                let b = c.take(c.remaining(), "implementation class UID")?;
                UserItem::ImplementationClassUid(text(b, body_at, "implementation class UID")?)
            }
            0x53 => {
                fixed_len(at, "asynchronous operations window sub-item", &c, 4)?;
                UserItem::AsyncOpsWindow {
                    max_invoked: c.u16("maximum operations invoked")?,
                    max_performed: c.u16("maximum operations performed")?,
                }
            }
            0x54 => {
                let sop_class_uid = uid_field(&mut c, "role selection SOP class UID")?;
                let scu_role = c.u8("SCU role")? != 0;
                let scp_role = c.u8("SCP role")? != 0;
                no_trailing(at, "role selection sub-item trailer", &c)?;
                UserItem::RoleSelection {
                    sop_class_uid,
                    scu_role,
                    scp_role,
                }
            }
            0x55 => {
                let b = c.take(c.remaining(), "implementation version name")?;
                UserItem::ImplementationVersionName(text(
                    b,
                    body_at,
                    "implementation version name",
                )?)
            }
            0x56 => {
                let sop_class_uid = uid_field(&mut c, "extended negotiation SOP class UID")?;
                let info = c.take(c.remaining(), "service class application information")?;
                UserItem::SopClassExtended {
                    sop_class_uid,
                    service_class_info: info.to_vec(),
                }
            }
            0x57 => {
                let sop_class_uid = uid_field(&mut c, "common extended negotiation SOP class UID")?;
                let service_class_uid = uid_field(&mut c, "service class UID")?;
                let (rel_at, rel) = c.u16_prefixed("related general SOP class identification")?;
                let mut rc = Cursor::new(rel, rel_at);
                let mut related = Vec::new();
                while !rc.is_empty() {
                    related.push(uid_field(&mut rc, "related general SOP class UID")?);
                }
                no_trailing(at, "common extended negotiation sub-item trailer", &c)?;
                UserItem::SopClassCommonExtended {
                    version: reserved,
                    sop_class_uid,
                    service_class_uid,
                    related_general_sop_classes: related,
                }
            }
            0x58 => {
                let identity_type = c.u8("user identity type")?;
                let positive_response_requested = c.u8("positive response requested")? != 0;
                let (_, primary) = c.u16_prefixed("user identity primary field")?;
                let (_, secondary) = c.u16_prefixed("user identity secondary field")?;
                no_trailing(at, "user identity sub-item trailer", &c)?;
                UserItem::UserIdentityRq {
                    identity_type,
                    positive_response_requested,
                    primary_field: primary.to_vec(),
                    secondary_field: secondary.to_vec(),
                }
            }
            0x59 => {
                let (_, resp) = c.u16_prefixed("user identity server response")?;
                no_trailing(at, "user identity accept sub-item trailer", &c)?;
                UserItem::UserIdentityAc {
                    server_response: resp.to_vec(),
                }
            }
            _ => {
                let data = c.take(c.remaining(), "user information sub-item")?;
                UserItem::Unknown {
                    item_type,
                    reserved,
                    data: data.to_vec(),
                }
            }
        };
        Ok(item)
    }

    fn encode(&self, out: &mut Vec<u8>) -> Result<()> {
        let reserved = match self {
            UserItem::SopClassCommonExtended { version, .. } => *version,
            UserItem::Unknown { reserved, .. } => *reserved,
            _ => 0,
        };
        put_item(
            out,
            self.item_type(),
            reserved,
            "user information sub-item",
            |out| {
                match self {
                    UserItem::MaxLength(v) => put_u32(out, *v),
                    UserItem::ImplementationClassUid(v) => {
                        check_text(v, "implementation class UID")?;
                        out.extend_from_slice(v.as_bytes());
                    }
                    UserItem::AsyncOpsWindow {
                        max_invoked,
                        max_performed,
                    } => {
                        put_u16(out, *max_invoked);
                        put_u16(out, *max_performed);
                    }
                    UserItem::RoleSelection {
                        sop_class_uid,
                        scu_role,
                        scp_role,
                    } => {
                        check_text(sop_class_uid, "SOP class UID")?;
                        put_u16_prefixed(out, "SOP class UID", sop_class_uid.as_bytes())?;
                        out.push(u8::from(*scu_role));
                        out.push(u8::from(*scp_role));
                    }
                    UserItem::ImplementationVersionName(v) => {
                        check_text(v, "implementation version name")?;
                        out.extend_from_slice(v.as_bytes());
                    }
                    UserItem::SopClassExtended {
                        sop_class_uid,
                        service_class_info,
                    } => {
                        check_text(sop_class_uid, "SOP class UID")?;
                        put_u16_prefixed(out, "SOP class UID", sop_class_uid.as_bytes())?;
                        out.extend_from_slice(service_class_info);
                    }
                    UserItem::SopClassCommonExtended {
                        sop_class_uid,
                        service_class_uid,
                        related_general_sop_classes,
                        ..
                    } => {
                        check_text(sop_class_uid, "SOP class UID")?;
                        check_text(service_class_uid, "service class UID")?;
                        put_u16_prefixed(out, "SOP class UID", sop_class_uid.as_bytes())?;
                        put_u16_prefixed(out, "service class UID", service_class_uid.as_bytes())?;
                        let mut rel = Vec::new();
                        for uid in related_general_sop_classes {
                            check_text(uid, "related general SOP class UID")?;
                            put_u16_prefixed(
                                &mut rel,
                                "related general SOP class UID",
                                uid.as_bytes(),
                            )?;
                        }
                        put_u16_prefixed(out, "related general SOP class identification", &rel)?;
                    }
                    UserItem::UserIdentityRq {
                        identity_type,
                        positive_response_requested,
                        primary_field,
                        secondary_field,
                    } => {
                        out.push(*identity_type);
                        out.push(u8::from(*positive_response_requested));
                        put_u16_prefixed(out, "user identity primary field", primary_field)?;
                        put_u16_prefixed(out, "user identity secondary field", secondary_field)?;
                    }
                    UserItem::UserIdentityAc { server_response } => {
                        put_u16_prefixed(out, "user identity server response", server_response)?;
                    }
                    UserItem::Unknown { data, .. } => out.extend_from_slice(data),
                }
                Ok(())
            },
        )
    }
}
