//! Parsing a workload name on the command line.

use pel_inputs::synthetic::Workload;

/// Parses `--workload`; an unknown name lists the known ones.
pub(crate) fn parse_workload(name: &str) -> Result<Workload, String> {
    Workload::from_name(name).ok_or_else(|| {
        let known: Vec<&str> = Workload::ALL.iter().map(|w| w.name()).collect();
        format!("unknown workload `{name}`; known: {}", known.join(", "))
    })
}
