//! The record rules a file-set is made by (PS3.3 F.5), given by the caller as data.

use std::collections::{HashMap, HashSet};

/// What a record needs of a key (PS3.3 F.5 type column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Type 1: present and not empty, else the instance cannot be indexed.
    Required,
    /// Type 2: present, empty when the instance has none.
    Empty,
    /// Types 1C, 2C, 3: copied when the instance has it.
    Optional,
}

impl Kind {
    /// The kind of a PS3.3 type string ("1", "1C", "2", "2C", "3").
    pub fn of(type_: &str) -> Kind {
        match type_ {
            "1" => Kind::Required,
            "2" => Kind::Empty,
            _ => Kind::Optional,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Key {
    pub tag: u32,
    pub keyword: String,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub struct Tables {
    /// Record type -> its keys, in table order.
    pub keys: HashMap<String, Vec<Key>>,
    /// SOP Class UID -> record type (IMAGE for classes not listed).
    pub type_of_class: HashMap<String, String>,
    /// Record types that sit in the root directory entity beside PATIENT.
    pub root_types: HashSet<String>,
    /// The three levels above an instance (PATIENT, STUDY, SERIES) and the attribute
    /// that tells their records apart.
    pub levels: [(String, u32); 3],
}

impl Tables {
    pub fn record_type<'a>(&'a self, sop_class: &str) -> &'a str {
        self.type_of_class
            .get(sop_class)
            .map(String::as_str)
            .unwrap_or("IMAGE")
    }

    /// The keys of `record_type` (none for a type the table does not list).
    pub fn keys_of(&self, record_type: &str) -> &[Key] {
        self.keys.get(record_type).map(Vec::as_slice).unwrap_or(&[])
    }
}
