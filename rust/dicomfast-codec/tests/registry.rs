//! The parser (dicomfast-core) reads every transfer syntax as the registry describes it:
//! one rule, proven to agree rather than typed twice.

use dicomfast_codec::registry::{lookup, TRANSFER_SYNTAXES};
use dicomfast_core::syntax::TransferSyntax as Parsed;

#[test]
fn parser_agrees_with_the_registry() {
    for t in TRANSFER_SYNTAXES.iter().chain([&lookup("1.2.3.4.5")]) {
        let uid = if t.uid.is_empty() { "1.2.3.4.5" } else { t.uid };
        let p = Parsed::from_uid(uid);
        assert_eq!(p.encoding.explicit_vr, t.explicit_vr, "{uid}");
        assert_eq!(p.encoding.big_endian, t.big_endian, "{uid}");
        assert_eq!(p.deflated, t.deflated, "{uid}");
        assert_eq!(p.encapsulated, t.encapsulated, "{uid}");
    }
}
