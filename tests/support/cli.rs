//! The command line run in-process (`inspector::cli::run`) with captured
//! streams and no terminal: what every CLI test file needs.

use inspector::cli::{run, ExitStatus, Io};

/// What one run printed and returned.
pub struct Output {
    pub status: ExitStatus,
    /// stdout as bytes (raw output formats).
    pub raw_stdout: Vec<u8>,
    pub stdout: String,
    pub stderr: String,
}

/// Run `inspector ARGS` with `stdin` as standard input.
pub fn cli(args: &[&str], stdin: &[u8]) -> Output {
    let mut input = stdin;
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut io = Io {
        stdin: &mut input,
        stdin_is_terminal: false,
        stdout: &mut stdout,
        stdout_is_terminal: false,
        stderr: &mut stderr,
        stderr_is_terminal: false,
    };
    let status = run(std::iter::once("inspector").chain(args.iter().copied()).map(Into::into), &mut io);
    Output {
        status,
        stdout: String::from_utf8_lossy(&stdout).into(),
        raw_stdout: stdout,
        stderr: String::from_utf8_lossy(&stderr).into(),
    }
}
