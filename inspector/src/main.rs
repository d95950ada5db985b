//! The `inspector` binary: all the work is in the library's `cli` module.

fn main() {
    std::process::exit(inspector::cli::main_with_std());
}
