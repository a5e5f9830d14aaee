//! Records the git commit for `GET /` ("commit") and links libtorch.

include!("build/libtorch.rs");

fn main() {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=CONNECT_HOST_COMMIT={commit}");
    link_libtorch();
    println!("cargo:rerun-if-changed=.git/HEAD");
}
