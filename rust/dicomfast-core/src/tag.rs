//! Tags as `u32` (group << 16 | element) and the special tags of PS3.5 §7.5.

/// Item (FFFE,E000), PS3.5 §7.5.
pub const ITEM: u32 = 0xFFFE_E000;
/// Item Delimitation Item (FFFE,E00D).
pub const ITEM_DELIMITER: u32 = 0xFFFE_E00D;
/// Sequence Delimitation Item (FFFE,E0DD).
pub const SEQUENCE_DELIMITER: u32 = 0xFFFE_E0DD;
/// Pixel Data (7FE0,0010).
pub const PIXEL_DATA: u32 = 0x7FE0_0010;
/// Extended Offset Table (7FE0,0001) and its lengths (7FE0,0002), PS3.5 A.4.
pub const EXTENDED_OFFSET_TABLE: u32 = 0x7FE0_0001;
pub const EXTENDED_OFFSET_TABLE_LENGTHS: u32 = 0x7FE0_0002;
/// File Meta Information Group Length (0002,0000).
pub const FILE_META_GROUP_LENGTH: u32 = 0x0002_0000;
/// Transfer Syntax UID (0002,0010).
pub const TRANSFER_SYNTAX_UID: u32 = 0x0002_0010;
/// Specific Character Set (0008,0005).
pub const SPECIFIC_CHARACTER_SET: u32 = 0x0008_0005;

#[inline]
pub fn group(tag: u32) -> u16 {
    (tag >> 16) as u16
}

#[inline]
pub fn element(tag: u32) -> u16 {
    tag as u16
}

/// Private tags have an odd group number (PS3.5 §7.8.1); groups 1, 3, 5, 7 and FFFF are not private.
#[inline]
pub fn is_private(tag: u32) -> bool {
    let g = group(tag);
    g % 2 == 1 && g > 0x0008 && g != 0xFFFF
}

/// Private Creator elements are (gggg,0010)-(gggg,00FF) of a private group (PS3.5 §7.8.1).
#[inline]
pub fn is_private_creator(tag: u32) -> bool {
    is_private(tag) && (0x0010..=0x00FF).contains(&element(tag))
}

/// Group Length elements (gggg,0000), PS3.5 §7.2.
#[inline]
pub fn is_group_length(tag: u32) -> bool {
    element(tag) == 0
}

/// `(GGGG,EEEE)` as DCMTK and pydicom print it.
pub fn format(tag: u32) -> String {
    format!("({:04X},{:04X})", group(tag), element(tag))
}
