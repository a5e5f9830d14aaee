// Shared by the workspace's build scripts (`include!`d): link arguments only
// reach the targets of the package whose build script prints them, so every
// package with binaries or tests that load libtorch prints these.

/// Keep `libtorch_cuda.so` linked (rustc passes `--as-needed`, which drops
/// it: nothing references it by symbol, and CUDA is then never available),
/// and find libtorch through an rpath rather than LD_LIBRARY_PATH.
fn link_libtorch() {
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH");
}
