//! The synthetic workloads of `pel bench` under criterion, so that a regression shows up as a
//! `cargo bench` diff: `workloads/<workload>/sequential` and `workloads/<workload>/parallel-N`
//! (the engine as shipped, `Fallback::Auto`) for N = 2 and the machine's core count. Each
//! block is the workload's default size, about 170 Mgas; `Melem/s` reads as Mgas/s.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pel::{
    Chain, Engine,
    parallel::{Fallback, ParallelConfig},
};
use pel_inputs::synthetic::{self, Workload};
use std::{hint::black_box, time::Duration};

/// The allocator the `pel` binary uses, so that these numbers match `pel bench`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn workloads(c: &mut Criterion) {
    pel::warm_up();
    let chain = Chain::mainnet();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut threads = vec![2, cores];
    threads.dedup();
    for workload in Workload::ALL {
        let (block, state) = synthetic::generate(&chain, workload, workload.default_txs(), 1)
            .expect("generated blocks execute");
        let mut group = c.benchmark_group(format!("workloads/{workload}"));
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2))
            .throughput(Throughput::Elements(block.header.gas_used));
        group.bench_function("sequential", |b| {
            b.iter(|| black_box(Engine::Sequential.execute(&chain, &block, &state)))
        });
        for &threads in &threads {
            let engine = Engine::Parallel(ParallelConfig {
                threads,
                fallback: Fallback::Auto,
            });
            group.bench_function(format!("parallel-{threads}"), |b| {
                b.iter(|| black_box(engine.execute(&chain, &block, &state)))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, workloads);
criterion_main!(benches);
