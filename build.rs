//! Records where libtorch lives in the binaries' rpath, so `vocmine` and its test binaries run
//! without `LD_LIBRARY_PATH`. torch-sys (a direct dependency for this reason) reports the folder
//! it linked against as `DEP_TCH_LIBTORCH_LIB`. The link is resolved to the real folder in the
//! cache, so the binary keeps working when the clone's `.libtorch` link moves or is deleted;
//! moving the cache itself means rebuilding.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    // Re-resolve when scripts/setup points the link somewhere else.
    println!("cargo:rerun-if-changed=.libtorch");
    if let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        let lib = std::fs::canonicalize(&lib).unwrap_or_else(|_| lib.into());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
