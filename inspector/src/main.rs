//! The `inspector` binary: all the work is in the library's `cli` module.

// jemalloc rather than the system allocator: decoding threads allocate and
// free small objects all the time, often on another thread than the one
// that allocated them, and with glibc's malloc a second thread cost about
// 40% more CPU time on a client-shaped capture (BENCHMARKS.md, issue 12).
// (mimalloc was as quick on one thread but held three times the memory.)
// Only the binary: the library leaves the choice to whoever links it.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read when it starts: allocations of 1 MiB or more
/// (a 16 MiB gzip_packed answer, a 4 MiB title) go to its arena that gives
/// memory back when freed, so peak memory stays as it was with glibc
/// (53 MiB on the capture with such frames, 69 MiB without this line);
/// small allocations keep jemalloc's default caching.
#[export_name = "_rjem_malloc_conf"]
static MALLOC_CONF: &[u8] = b"oversize_threshold:1048576\0";

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
