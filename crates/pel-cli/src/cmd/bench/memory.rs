//! Peak resident memory of the process, resettable between runs (Linux: `VmHWM`, reset through
//! `/proc/self/clear_refs`). Elsewhere nothing is measured and reports say so.

/// Starts a new peak: from now on the peak is measured from the current resident size.
pub(crate) fn reset_peak() {
    // Writing 5 resets the high-water mark (Linux 4.0 and later); failing leaves the
    // peak since the process started, which only overstates.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident memory since the last reset, in bytes; `None` where unknown.
pub(crate) fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
