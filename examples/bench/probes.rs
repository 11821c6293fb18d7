//! Probes of the process and the machine: CPU time, peak RSS, the load of
//! other processes.

use std::thread;
use std::time::Instant;

/// The process's CPU time so far (user + system, all threads), in seconds,
/// from fields 14 and 15 of `/proc/self/stat`.
pub fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces; the
    // fields after it start with the state (field 3).
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_second() as f64)
}

/// `AT_CLKTCK` from the auxiliary vector (what `sysconf(_SC_CLK_TCK)` returns),
/// read without libc; 100 if it cannot be read.
pub fn clock_ticks_per_second() -> u64 {
    const AT_CLKTCK: usize = 17;
    const WORD: usize = std::mem::size_of::<usize>();
    let auxv = std::fs::read("/proc/self/auxv").unwrap_or_default();
    let words: Vec<usize> = auxv
        .chunks_exact(WORD)
        .map(|c| usize::from_ne_bytes(c.try_into().expect("a word")))
        .collect();
    words
        .chunks_exact(2)
        .find(|kv| kv[0] == AT_CLKTCK)
        .map_or(100, |kv| kv[1] as u64)
}

/// A `kB` field of `/proc/self/status`, in bytes.
pub fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// Resets the peak RSS (`VmHWM`) to the current RSS by writing "5" to
/// `/proc/self/clear_refs`, and returns it; `None` where that is not possible.
pub fn reset_peak_rss() -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    status_bytes("VmHWM:")
}

/// The peak RSS (`VmHWM`) since the last reset.
pub fn peak_rss() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// The machine, as the README's table states it.
pub fn machine() -> String {
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cpus} CPUs (nproc), {model}")
}

/// CPU time the whole machine has spent busy (user, nice, system, irq,
/// softirq, steal: the first line of `/proc/stat`), in seconds.
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal ...
    let busy: u64 = [0, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|&i| ticks.get(i))
        .sum();
    Some(busy as f64 / clock_ticks_per_second() as f64)
}

/// How many CPUs other processes kept busy, on average, since `since`
/// (machine busy time minus this process's CPU time, per wall second): on a
/// shared machine they skew every figure, so the output says how much.
pub struct OtherLoad {
    since: Instant,
    machine: Option<f64>,
    own: Option<f64>,
}

impl OtherLoad {
    pub fn start() -> Self {
        OtherLoad {
            since: Instant::now(),
            machine: machine_busy_seconds(),
            own: cpu_seconds(),
        }
    }

    pub fn cpus(&self) -> Option<f64> {
        let machine = machine_busy_seconds()? - self.machine?;
        let own = cpu_seconds()? - self.own?;
        Some(((machine - own) / self.since.elapsed().as_secs_f64()).max(0.0))
    }
}
