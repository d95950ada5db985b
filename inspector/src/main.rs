//! The `inspector` binary: all the work is in the library's `cli` module.

fn main() -> std::process::ExitCode {
    // Decoding never panics by design (the fuzz targets check it); should a
    // bug still panic, say so in one line instead of a Rust panic report.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        eprintln!("inspector: internal error, please report it with the input that caused it: {what}");
    }));
    inspector::cli::main_with_std().into()
}
