//! Runs Wireshark's `tshark` over a capture, for tests that check what we
//! put on the wire against an independent dissector.
//!
//! tshark must be installed (`.ci/run` installs Debian's `tshark` package).
//! Its known faults with Mobile IPv6 and Shim6 are listed in
//! `tests/vectors/TOOLS.md`; where tshark and the RFC disagree, the RFC wins.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;

/// What went wrong running tshark.
#[derive(Debug, thiserror::Error)]
pub enum TsharkError {
    /// The temporary capture file could not be written.
    #[error("cannot write the capture file: {0}")]
    Io(#[from] std::io::Error),
    /// tshark exited with a failure.
    #[error("tshark failed ({status}): {stderr}")]
    Failed {
        /// Its exit status.
        status: String,
        /// What it printed on standard error.
        stderr: String,
    },
    /// tshark's output was not the JSON we asked for.
    #[error("tshark's output is not JSON: {0}")]
    Json(#[from] serde_json::Error),
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_capture(bytes: &[u8]) -> Result<PathBuf, std::io::Error> {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("mobsim-{}-{n}.pcapng", std::process::id()));
    std::fs::write(&path, bytes)?;
    Ok(path)
}

/// Runs `tshark -r <capture> <args...>` and returns its standard output.
pub fn run(capture: &[u8], args: &[&str]) -> Result<String, TsharkError> {
    let path = temp_capture(capture)?;
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(&path)
        .args(args)
        .output();
    let _ = std::fs::remove_file(&path);
    let out = out?;
    if !out.status.success() {
        return Err(TsharkError::Failed {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Dissects every packet of `capture` (`tshark -T json`), with extra
/// preferences given as `-o name:value` pairs, and returns one JSON value
/// per packet (its `_source.layers` object).
pub fn dissect(capture: &[u8], prefs: &[&str]) -> Result<Vec<Value>, TsharkError> {
    let mut args = vec!["-T", "json"];
    for p in prefs {
        args.push("-o");
        args.push(p);
    }
    let text = run(capture, &args)?;
    let all: Value = serde_json::from_str(&text)?;
    Ok(all
        .as_array()
        .map(|packets| {
            packets
                .iter()
                .map(|p| p.pointer("/_source/layers").cloned().unwrap_or(Value::Null))
                .collect()
        })
        .unwrap_or_default())
}

/// Every value of every key named `key` anywhere inside `v` (tshark's JSON
/// nests fields under their protocol and subtree objects).
pub fn find_all<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    let mut out = Vec::new();
    walk(v, key, &mut out);
    out
}

fn walk<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == key {
                    out.push(x);
                }
                walk(x, key, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk(x, key, out)),
        _ => {}
    }
}

/// The first value of `key` anywhere inside `v`, as a string.
pub fn field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    find_all(v, key).into_iter().find_map(Value::as_str)
}

/// The problems tshark reports for one dissected packet: malformed-packet
/// markers and expert items of severity warning or error.
pub fn problems(packet: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if !find_all(packet, "_ws.malformed").is_empty() {
        out.push("malformed packet".to_owned());
    }
    for sev in find_all(packet, "_ws.expert.severity") {
        // Wireshark severities: 0x00400000 note, 0x00600000 warn, 0x00800000 error.
        let s = sev.as_str().unwrap_or_default();
        if s == "6291456" || s == "8388608" {
            out.push(format!("expert item of severity {s}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys() {
        let v: Value = serde_json::json!({"a": {"b": "1", "c": [{"b": "2"}]}});
        assert_eq!(find_all(&v, "b").len(), 2);
        assert_eq!(field(&v, "b"), Some("1"));
        assert!(problems(&v).is_empty());
        let bad: Value = serde_json::json!({"x": {"_ws.malformed": {}}});
        assert_eq!(problems(&bad), vec!["malformed packet".to_owned()]);
    }
}
