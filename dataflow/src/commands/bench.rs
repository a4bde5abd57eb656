//! `cryoflux bench …`: throughput against a baseline measured in the same run (see
//! [`cryoflux_bench`]; a developer's tool whose settings are its flags, so the bench crate
//! defines them).

pub use cryoflux_bench::BenchArgs;

/// Runs the chosen benchmark and prints its report.
pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    cryoflux_bench::run(args)
}
