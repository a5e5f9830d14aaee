//! Links libtorch for this package's tests (see build/libtorch.rs).

include!("../../build/libtorch.rs");

fn main() {
    link_libtorch();
}
