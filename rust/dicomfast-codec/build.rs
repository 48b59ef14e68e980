//! With `jpeg-dct`: compile `src/jpeg_dct/grey12.c` against the libjpeg-turbo
//! headers that `turbojpeg-sys` built (it says where: `DEP_TURBOJPEG_INCLUDE`, a comma
//! list) and link it beside that library.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "jpeg-dct")]
    {
        let source = "src/jpeg_dct/grey12.c";
        println!("cargo:rerun-if-changed={source}");
        let mut build = cc::Build::new();
        build.file(source).warnings(true).extra_warnings(true);
        if let Ok(dirs) = std::env::var("DEP_TURBOJPEG_INCLUDE") {
            for dir in dirs.split(',').filter(|d| !d.is_empty()) {
                build.include(dir);
            }
        }
        build.compile("dicomfast_jpeg_grey12");
    }
}
