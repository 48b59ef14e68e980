//! Compiles the C ABI shim (src/shim.cpp) against the system OpenJPH headers and links the
//! system library (Debian `libopenjph-dev`; its pkg-config file is empty, so the paths are
//! Debian's unless OPENJPH_INCLUDE_DIR / OPENJPH_LIB_DIR say otherwise).
//!
//! Without the headers the crate still builds, as a crate whose `encode` says HTJ2K
//! encoding is not in this build (`cfg(have_openjph)` unset): `pip install .` never fails
//! for want of OpenJPH, and nothing then needs its library at run time.

use std::env;
use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(have_openjph)");
    println!("cargo:rerun-if-changed=src/shim.cpp");
    println!("cargo:rerun-if-env-changed=OPENJPH_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=OPENJPH_LIB_DIR");
    let include = env::var("OPENJPH_INCLUDE_DIR").unwrap_or_else(|_| "/usr/include/openjph".into());
    let header = Path::new(&include).join("ojph_codestream.h");
    println!("cargo:rerun-if-changed={}", header.display());
    if !header.exists() {
        println!(
            "cargo:warning=OpenJPH headers not found in {include} (Debian: libopenjph-dev): \
             this build encodes no HTJ2K"
        );
        return;
    }
    cc::Build::new()
        .cpp(true)
        .std("c++14")
        .include(&include)
        .file("src/shim.cpp")
        .warnings(true)
        .compile("dicomfast_openjph_shim");
    if let Ok(dir) = env::var("OPENJPH_LIB_DIR") {
        println!("cargo:rustc-link-search=native={dir}");
    }
    println!("cargo:rustc-link-lib=dylib=openjph");
    println!("cargo:rustc-cfg=have_openjph");
}
