//! Keep `libtorch_cuda.so` linked: rustc passes `--as-needed`, which drops
//! it (nothing references it by symbol) and CUDA is then never available.
fn main() {
    println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg=-ltorch");
    if let Ok(libtorch) = std::env::var("LIBTORCH") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{libtorch}/lib");
    }
    println!("cargo:rerun-if-env-changed=LIBTORCH");
}
