//! Compiles the C ABI shim (src/shim.cpp) against the system OpenJPH headers and links the
//! system library (Debian `libopenjph-dev`; its pkg-config file is empty, so the paths are
//! Debian's unless OPENJPH_INCLUDE_DIR / OPENJPH_LIB_DIR say otherwise).

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=src/shim.cpp");
    println!("cargo:rerun-if-env-changed=OPENJPH_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=OPENJPH_LIB_DIR");
    let include = env::var("OPENJPH_INCLUDE_DIR").unwrap_or_else(|_| "/usr/include/openjph".into());
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
}
