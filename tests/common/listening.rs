//! Starting `treatfirst serve` as a child process and waiting for the address it listens on
//! (it prints `listening on http://ADDR` once it accepts requests): shared by the HTTP and
//! the browser suites.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Spawns `command` (a `serve`) with standard output piped, returns the child and its base
/// URL, and keeps draining its output so that it never blocks on a full pipe.
pub fn spawn_listening(mut command: Command) -> (Child, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .expect("the treatfirst binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let started = Instant::now();
    let base_url = loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("the server exited before listening: {:?}", child.try_wait()))
            .expect("stdout is text");
        if let Some(url) = line.strip_prefix("listening on ") {
            break url.trim().to_owned();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no listening line"
        );
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base_url)
}
