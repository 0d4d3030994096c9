//! `mobsim cga`: generate and verify CGA and HBA addresses.
//!
//! Exit codes: 0 success (the address verifies), 1 verification failed (the
//! failed step is printed), 2 bad input (unparsable prefix, hex, key file).

use std::fmt::Write as _;
use std::io::Read as _;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hba_cga::cga::{self, Cga, Sec, parallel::ParallelSearch};
use hba_cga::hba::{self, HbaKey, HbaSet};
use hba_cga::sig::{CgaSigner, RsaSigner};
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

/// The `mobsim cga` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum CgaCommand {
    /// Generate a CGA (RFC 3972) for a /64 prefix.
    Gen {
        /// The subnet prefix, e.g. `2001:db8:1:2::` or `2001:db8:1:2::/64`.
        #[arg(long)]
        prefix: String,
        /// The security parameter Sec, 0-7 (each step costs 2^16 times more;
        /// Sec 2 takes minutes, 3 and up are out of reach).
        #[arg(long, default_value_t = 1)]
        sec: u8,
        /// RSA private key (PEM or DER, PKCS#1 or PKCS#8).
        #[arg(long, conflicts_with = "bits")]
        key: Option<PathBuf>,
        /// Generate an RSA key of this many bits instead (default 2048).
        #[arg(long)]
        bits: Option<usize>,
        /// Search threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Seed the random generator instead of the OS (reproducible with
        /// `--threads 1`; with more threads the first thread to find a
        /// modifier wins). Not for real keys.
        #[arg(long)]
        seed: Option<u64>,
        /// Write the CGA Parameters (binary) to this file.
        #[arg(long)]
        params_out: Option<PathBuf>,
        /// Write a generated key (PKCS#8 PEM) to this file.
        #[arg(long)]
        key_out: Option<PathBuf>,
    },
    /// Verify an address against CGA Parameters (RFC 3972 §5).
    Verify {
        /// The address.
        #[arg(long)]
        address: Ipv6Addr,
        /// The CGA Parameters as hex (or `@FILE` for a binary file).
        #[arg(long)]
        params: String,
    },
    /// Generate an HBA set (RFC 5535); CGA-compatible when a key is given.
    HbaGen {
        /// A prefix of the set (repeat the option for each prefix).
        #[arg(long = "prefix", required = true)]
        prefixes: Vec<String>,
        /// The security parameter Sec, 0-2 (RFC 5535 §6).
        #[arg(long, default_value_t = 0)]
        sec: u8,
        /// RSA private key (PEM or DER, PKCS#1 or PKCS#8) for a
        /// CGA-compatible set; without it, a 384-bit pseudo-key is used.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Search threads (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Seed the random generator instead of the OS (reproducible with
        /// `--threads 1`).
        #[arg(long)]
        seed: Option<u64>,
        /// Write each member's CGA Parameters (binary) to `DIR/<n>.params`.
        #[arg(long)]
        params_dir: Option<PathBuf>,
    },
    /// Verify that an address belongs to the HBA set of some parameters
    /// (RFC 5535 §7.2).
    HbaVerify {
        /// The address.
        #[arg(long)]
        address: Ipv6Addr,
        /// The CGA Parameters of any member, Multi-Prefix extension
        /// included, as hex (or `@FILE`).
        #[arg(long)]
        params: String,
    },
    /// Measure Hash2 attempts/s per thread count next to the raw SHA-1
    /// block rate.
    Bench {
        /// Print JSON (one array of objects).
        #[arg(long)]
        json: bool,
        /// Seconds per measurement.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        /// Largest thread count to measure (default: cores, at least 2).
        #[arg(long)]
        max_threads: Option<usize>,
    },
}

/// Runs one `mobsim cga` subcommand and returns the process exit code.
pub fn run(cmd: &CgaCommand) -> ExitCode {
    let r = match cmd {
        CgaCommand::Gen {
            prefix,
            sec,
            key,
            bits,
            threads,
            seed,
            params_out,
            key_out,
        } => gen_cmd(&GenArgs {
            prefix,
            sec: *sec,
            key: key.as_deref(),
            bits: *bits,
            threads: *threads,
            seed: *seed,
            params_out: params_out.as_deref(),
            key_out: key_out.as_deref(),
        }),
        CgaCommand::Verify { address, params } => verify_cmd(address, params),
        CgaCommand::HbaGen {
            prefixes,
            sec,
            key,
            threads,
            seed,
            params_dir,
        } => hba_gen_cmd(
            prefixes,
            *sec,
            key.as_deref(),
            *threads,
            *seed,
            params_dir.as_deref(),
        ),
        CgaCommand::HbaVerify { address, params } => hba_verify_cmd(address, params),
        CgaCommand::Bench {
            json,
            seconds,
            max_threads,
        } => bench_cmd(*json, *seconds, *max_threads),
    };
    match r {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("mobsim cga: {msg}");
            ExitCode::from(2)
        }
    }
}

struct GenArgs<'a> {
    prefix: &'a str,
    sec: u8,
    key: Option<&'a Path>,
    bits: Option<usize>,
    threads: Option<usize>,
    seed: Option<u64>,
    params_out: Option<&'a Path>,
    key_out: Option<&'a Path>,
}

/// Parses `2001:db8:1:2::` or `2001:db8:1:2::/64` into the 64-bit prefix.
fn parse_prefix(s: &str) -> Result<[u8; 8], String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    if let Some(l) = len
        && l != "64"
    {
        return Err(format!("prefix {s}: CGAs need a /64 prefix"));
    }
    let a: Ipv6Addr = addr
        .parse()
        .map_err(|e| format!("prefix {s}: not an IPv6 prefix ({e})"))?;
    let o = a.octets();
    let (hi, lo) = o.split_at(8);
    if lo.iter().any(|&b| b != 0) {
        return Err(format!("prefix {s}: bits set beyond the first 64"));
    }
    let mut p = [0u8; 8];
    p.copy_from_slice(hi);
    Ok(p)
}

fn parse_sec(v: u8) -> Result<Sec, String> {
    Sec::new(v).map_err(|e| e.to_string())
}

fn make_rng(seed: Option<u64>) -> Result<ChaCha20Rng, String> {
    if let Some(s) = seed {
        return Ok(ChaCha20Rng::seed_from_u64(s));
    }
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| format!("no OS randomness (/dev/urandom: {e}); pass --seed"))?;
    Ok(ChaCha20Rng::from_seed(seed))
}

fn load_key(path: &Path) -> Result<RsaSigner, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = match std::str::from_utf8(&bytes) {
        Ok(text) if text.contains("-----BEGIN") => RsaSigner::from_pem(text),
        _ => RsaSigner::from_der(&bytes),
    };
    key.map_err(|_| {
        format!(
            "{}: not an RSA private key (PEM or DER, PKCS#1 or PKCS#8)",
            path.display()
        )
    })
}

fn read_params(arg: &str) -> Result<Vec<u8>, String> {
    if let Some(path) = arg.strip_prefix('@') {
        return std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    }
    let digits: String = arg
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    hex::decode(&digits).map_err(|e| format!("--params: not hex ({e})"))
}

fn threads_or_default(t: Option<usize>) -> usize {
    t.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
        .max(1)
}

fn rate(n: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let n = n as f64;
    if s > 0.0 { n / s } else { 0.0 }
}

fn human(x: f64) -> String {
    if x >= 1e9 {
        format!("{:.2} G", x / 1e9)
    } else if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0} ")
    }
}

fn human_secs(s: f64) -> String {
    if !s.is_finite() {
        "unknown".to_string()
    } else if s < 120.0 {
        format!("{s:.1} s")
    } else if s < 7200.0 {
        format!("{:.1} min", s / 60.0)
    } else if s < 2.0 * 86400.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.3e} days", s / 86400.0)
    }
}

/// Runs the search, with a progress line on stderr once it takes more
/// than half a second (attempts, attempts/s, expected time still to go).
fn run_search(search: &ParallelSearch, sec: Sec) -> Option<[u8; 16]> {
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let watcher = s.spawn(|| progress(search, sec, &done));
        let r = search.run();
        done.store(true, Ordering::Relaxed);
        let _ = watcher.join();
        r
    })
}

fn progress(search: &ParallelSearch, sec: Sec, done: &AtomicBool) {
    let start = Instant::now();
    let mut bar: Option<indicatif::ProgressBar> = None;
    while !done.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let elapsed = start.elapsed();
        if elapsed < Duration::from_millis(500) {
            continue;
        }
        let b = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg}") {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        let n = search.attempts();
        let r = rate(n, elapsed);
        // The search is memoryless: whatever was tried, the expected number
        // of attempts still to go is 2^(16*Sec).
        let remaining = if r > 0.0 {
            sec.expected_attempts() / r
        } else {
            f64::INFINITY
        };
        b.set_message(format!(
            "Sec {} search on {} threads: {n} attempts, {}attempts/s, expected remaining {}",
            sec.get(),
            search.threads(),
            human(r),
            human_secs(remaining)
        ));
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

fn gen_cmd(a: &GenArgs<'_>) -> Result<ExitCode, String> {
    let prefix = parse_prefix(a.prefix)?;
    let sec = parse_sec(a.sec)?;
    let mut rng = make_rng(a.seed)?;
    let (key, generated) = match a.key {
        Some(p) => (load_key(p)?, false),
        None => {
            let bits = a.bits.unwrap_or(2048);
            eprintln!("generating a {bits}-bit RSA key...");
            let k = RsaSigner::generate(&mut rng, bits)
                .map_err(|e| format!("key generation ({bits} bits): {e}"))?;
            (k, true)
        }
    };
    let spki = key.public_key_der().map_err(|e| e.to_string())?;
    let mut start = [0u8; 16];
    rng.fill_bytes(&mut start);
    let threads = threads_or_default(a.threads);
    let search = ParallelSearch::new(sec, &spki, &[], start, threads);
    let t0 = Instant::now();
    let modifier = run_search(&search, sec).ok_or("search cancelled")?;
    let elapsed = t0.elapsed();
    let c = Cga::from_modifier(modifier, prefix, sec, &spki, &[]).map_err(|e| e.to_string())?;
    println!("address  {}", c.address());
    println!("sec      {}", sec.get());
    println!("params   {}", hex::encode(c.params_bytes()));
    println!(
        "attempts {} in {:.3} s ({}attempts/s, {threads} threads)",
        search.attempts(),
        elapsed.as_secs_f64(),
        human(rate(search.attempts(), elapsed))
    );
    if let Some(p) = a.params_out {
        std::fs::write(p, c.params_bytes()).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    if generated {
        match a.key_out {
            Some(p) => {
                let pem = key.to_pkcs8_pem().map_err(|e| e.to_string())?;
                std::fs::write(p, pem).map_err(|e| format!("{}: {e}", p.display()))?;
            }
            None => eprintln!("note: the generated private key was not saved (use --key-out FILE)"),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn verify_cmd(address: &Ipv6Addr, params: &str) -> Result<ExitCode, String> {
    let params = read_params(params)?;
    Ok(match cga::verify(address, &params) {
        Ok(sec) => {
            println!(
                "ok: {address} is a CGA of these parameters (Sec {})",
                sec.get()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("FAIL: RFC 3972 section 5 {e}");
            ExitCode::from(1)
        }
    })
}

fn hba_gen_cmd(
    prefixes: &[String],
    sec: u8,
    key: Option<&Path>,
    threads: Option<usize>,
    seed: Option<u64>,
    params_dir: Option<&Path>,
) -> Result<ExitCode, String> {
    let prefixes = prefixes
        .iter()
        .map(|p| parse_prefix(p))
        .collect::<Result<Vec<_>, _>>()?;
    let sec = parse_sec(sec)?;
    let mut rng = make_rng(seed)?;
    let signer = key.map(load_key).transpose()?;
    let spki = signer
        .as_ref()
        .map(|k| k.public_key_der().map_err(|e| e.to_string()))
        .transpose()?;
    let mut start = [0u8; 16];
    rng.fill_bytes(&mut start);
    let hkey = match &spki {
        Some(k) => HbaKey::Public(k),
        None => {
            let mut r = [0u8; hba::PSEUDO_KEY_LEN];
            rng.fill_bytes(&mut r);
            HbaKey::Pseudo(r)
        }
    };
    let tail = hba::hash2_tail(&prefixes, sec, &hkey).map_err(|e| e.to_string())?;
    let search = ParallelSearch::new(sec, &tail, &[], start, threads_or_default(threads));
    let modifier = run_search(&search, sec).ok_or("search cancelled")?;
    let set = HbaSet::from_modifier(modifier, &prefixes, sec, hkey).map_err(|e| e.to_string())?;
    println!(
        "{} set, Sec {}, {} members, {} Hash2 attempts",
        if set.is_cga_compatible() {
            "CGA-compatible HBA"
        } else {
            "HBA-only"
        },
        sec.get(),
        set.members().len(),
        search.attempts()
    );
    for (i, m) in set.members().iter().enumerate() {
        println!("address  {}", m.address());
        println!("params   {}", hex::encode(m.params_bytes()));
        if let Some(dir) = params_dir {
            let p = dir.join(format!("{i}.params"));
            std::fs::write(&p, m.params_bytes()).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn hba_verify_cmd(address: &Ipv6Addr, params: &str) -> Result<ExitCode, String> {
    let params = read_params(params)?;
    Ok(match hba::verify_membership(address, &params) {
        Ok(sec) => {
            println!(
                "ok: {address} belongs to the HBA set of these parameters (Sec {})",
                sec.get()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("FAIL: RFC 5535 section 7.2 {e}");
            ExitCode::from(1)
        }
    })
}

/// Raw SHA-1 compression rate on one thread over `blocks` blocks per call:
/// (blocks per second, blocks per CPU-second when measurable).
fn sha1_block_rate(blocks: usize, seconds: f64) -> (f64, Option<f64>) {
    let buf = vec![[0x5au8; 64]; blocks.max(1)];
    let mut st = [
        0x6745_2301u32,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut n: u64 = 0;
    let cpu0 = process_cpu_time();
    let t0 = Instant::now();
    let limit = Duration::from_secs_f64(seconds);
    loop {
        for _ in 0..1024 {
            sha1::block_api::compress(&mut st, &buf);
        }
        n += 1024 * buf.len() as u64;
        if t0.elapsed() >= limit {
            break;
        }
    }
    std::hint::black_box(st);
    let wall = t0.elapsed();
    let cpu = cpu0
        .zip(process_cpu_time())
        .map(|(a, b)| b.saturating_sub(a));
    (
        rate(n, wall),
        cpu.filter(|c| *c >= Duration::from_millis(100))
            .map(|c| rate(n, c)),
    )
}

/// CPU time (user + system) of this process so far, from
/// `/proc/self/stat` (Linux; clock ticks of 1/100 s). `None` elsewhere.
fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are
    // fields 14 and 15 of the whole line.
    let rest = stat.rsplit_once(')')?.1;
    let mut f = rest.split_whitespace().skip(11);
    let utime: u64 = f.next()?.parse().ok()?;
    let stime: u64 = f.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime).saturating_mul(10)))
}

struct Hash2Rate {
    attempts_per_s: f64,
    /// Attempts per CPU-second (contention-independent), when measurable.
    attempts_per_cpu_s: Option<f64>,
}

/// Hash2 attempts/s on `threads` threads (Sec 7, so nothing is found).
fn hash2_rate(spki: &[u8], threads: usize, seconds: f64) -> Hash2Rate {
    let Ok(sec) = Sec::new(7) else {
        return Hash2Rate {
            attempts_per_s: 0.0,
            attempts_per_cpu_s: None,
        };
    };
    let search = ParallelSearch::new(sec, spki, &[], [0; 16], threads);
    let cpu0 = process_cpu_time();
    let t0 = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_secs_f64(seconds));
            search.cancel();
        });
        let _ = search.run();
    });
    let wall = t0.elapsed();
    let cpu = cpu0
        .zip(process_cpu_time())
        .map(|(a, b)| b.saturating_sub(a));
    Hash2Rate {
        attempts_per_s: rate(search.attempts(), wall),
        attempts_per_cpu_s: cpu
            .filter(|c| *c >= Duration::from_millis(100))
            .map(|c| rate(search.attempts(), c)),
    }
}

fn bench_cmd(json: bool, seconds: f64, max_threads: Option<usize>) -> Result<ExitCode, String> {
    if !(seconds > 0.0 && seconds <= 600.0) {
        return Err("--seconds must be in (0, 600]".to_string());
    }
    // A typical Hash2 input: modifier, 9 zeros and a 1024-bit RSA
    // SubjectPublicKeyInfo (162 octets): 187 octets, 4 SHA-1 blocks.
    let spki = {
        let mut k = vec![0x30, 0x81, 0x9f];
        k.resize(162, 0xa5);
        k
    };
    let blocks = cga::Hash2Engine::new(&spki).blocks_per_attempt();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let max = max_threads.unwrap_or(cores.max(2)).max(1);
    let raw = sha1_block_rate(blocks, seconds);
    let mut rows = Vec::new();
    for t in 1..=max {
        let a = hash2_rate(&spki, t, seconds);
        rows.push((t, a));
    }
    let raw_again = sha1_block_rate(blocks, seconds);
    // The better of the two runs (before and after), for both measures.
    let raw_cpu = match (raw.1, raw_again.1) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let raw = raw.0.max(raw_again.0);
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(t, r)| {
                serde_json::json!({
                    "threads": t,
                    "attempts_per_s": r.attempts_per_s,
                    "sha1_blocks_per_s": raw,
                    "blocks_per_attempt": blocks,
                    "attempts_per_cpu_s": r.attempts_per_cpu_s,
                    "sha1_blocks_per_cpu_s": raw_cpu,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
    } else {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "raw SHA-1: {}blocks/s on one thread ({}blocks/CPU-s); Hash2 input: {blocks} blocks/attempt",
            human(raw),
            raw_cpu.map_or_else(|| "- ".to_string(), human)
        );
        let one = rows.first().map_or(0.0, |r| r.1.attempts_per_s);
        let _ = writeln!(
            out,
            "threads  attempts/s  vs raw (per thread)  speed-up  attempts/CPU-s  vs raw (CPU)"
        );
        for (t, r) in &rows {
            let a = r.attempts_per_s;
            #[allow(clippy::cast_precision_loss)]
            let per_thread_raw = raw / blocks as f64 * *t as f64;
            let _ = writeln!(
                out,
                "{t:>7}  {:>10}  {:>18.1}%  {:>7.2}x  {:>14}  {:>11}",
                human(a),
                100.0 * a / per_thread_raw,
                if one > 0.0 { a / one } else { 0.0 },
                r.attempts_per_cpu_s.map_or_else(|| "-".to_string(), human),
                r.attempts_per_cpu_s.zip(raw_cpu).map_or_else(
                    || "-".to_string(),
                    |(x, y)| {
                        #[allow(clippy::cast_precision_loss)]
                        let pct = 100.0 * x * blocks as f64 / y;
                        format!("{pct:.1}%")
                    }
                )
            );
        }
        let _ = writeln!(
            out,
            "(attempts/CPU-s does not depend on other load: equal values for 1 and N \
             threads mean the threads share no work and scale with free cores)"
        );
        print!("{out}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(
            parse_prefix("2001:db8:1:2::/64"),
            Ok([0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2])
        );
        assert_eq!(parse_prefix("fe80::"), Ok([0xfe, 0x80, 0, 0, 0, 0, 0, 0]));
        assert!(parse_prefix("2001:db8::/48").is_err());
        assert!(parse_prefix("2001:db8::1").is_err());
        assert!(parse_prefix("nonsense").is_err());
    }

    #[test]
    fn params_hex_forms() {
        assert_eq!(read_params("00:ff 10"), Ok(vec![0, 0xff, 0x10]));
        assert!(read_params("0g").is_err());
    }
}
