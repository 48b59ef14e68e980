//! Keyed UIDs: `2.25.` + the first 128 bits of HMAC-SHA256(key, "uid\0" + uid) as a
//! decimal number (PS3.5 B.2), the same function as `dicomfast.deid.keys.uid_for`, so a
//! key gives the same new UIDs whichever implementation made them.

use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104) with the key's padded blocks hashed once: each message then
/// costs the two compressions of its own bytes.
#[derive(Clone)]
pub struct KeyedHash {
    inner: Sha256,
    outer: Sha256,
}

impl KeyedHash {
    pub fn new(key: &[u8]) -> KeyedHash {
        let mut block = [0u8; BLOCK];
        if key.len() > BLOCK {
            block[..32].copy_from_slice(&Sha256::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        let pad = |byte: u8| {
            let mut h = Sha256::new();
            h.update(block.map(|b| b ^ byte));
            h
        };
        KeyedHash {
            inner: pad(0x36),
            outer: pad(0x5C),
        }
    }

    /// HMAC-SHA256(key, `purpose` + NUL + `value`).
    pub fn mac(&self, purpose: &[u8], value: &[u8]) -> [u8; 32] {
        let mut inner = self.inner.clone();
        inner.update(purpose);
        inner.update([0u8]);
        inner.update(value);
        let mut outer = self.outer.clone();
        outer.update(inner.finalize());
        outer.finalize().into()
    }

    /// The `2.25.` UID that replaces `uid`.
    pub fn uid(&self, uid: &str) -> String {
        let mac = self.mac(b"uid", uid.as_bytes());
        let n = u128::from_be_bytes(mac[..16].try_into().expect("16 bytes"));
        format!("2.25.{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test cases 1 and 6 (a key longer than the block).
    #[test]
    fn hmac_sha256_vectors() {
        fn hex(b: &[u8]) -> String {
            b.iter().map(|x| format!("{x:02x}")).collect()
        }
        let k = KeyedHash::new(&[0x0b; 20]);
        let mut inner = k.inner.clone();
        inner.update(b"Hi There");
        let mut outer = k.outer.clone();
        outer.update(inner.finalize());
        assert_eq!(
            hex(&outer.finalize()),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let k = KeyedHash::new(&[0xaa; 131]);
        let msg = b"Test Using Larger Than Block-Size Key - Hash Key First";
        let mut inner = k.inner.clone();
        inner.update(msg);
        let mut outer = k.outer.clone();
        outer.update(inner.finalize());
        assert_eq!(
            hex(&outer.finalize()),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn uids_are_valid() {
        let k = KeyedHash::new(b"0123456789abcdef");
        let u = k.uid("1.2.3.4");
        assert!(u.starts_with("2.25.") && u.len() <= 64, "{u}");
        assert_eq!(u, k.uid("1.2.3.4"));
        assert_ne!(u, k.uid("1.2.3.5"));
    }
}
