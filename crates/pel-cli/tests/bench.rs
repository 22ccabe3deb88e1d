//! `pel gen` and `pel bench` driven through the real binary: generated fixtures replay with
//! both engines, the bench's table, JSON and plot, and clear errors on bad input.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use serde_json::Value;

mod common;

use common::pel;

const WORKLOADS: [&str; 6] = [
    "transfers",
    "transfers-hot",
    "erc20",
    "amm",
    "hot-contract",
    "mixed",
];

#[test]
fn every_generated_workload_passes_pel_exec_with_both_engines() {
    let root = tempfile::tempdir().unwrap();
    for workload in WORKLOADS {
        let dir = root.path().join(workload);
        let out = dir.to_str().unwrap();
        let run = pel(&[
            "gen",
            "--workload",
            workload,
            "--txs",
            "60",
            "--seed",
            "3",
            "--out",
            out,
        ]);
        assert_eq!(run.code, 0, "{workload}: {}", run.stderr);
        assert!(run.stdout.contains("with 60 txs"), "{}", run.stdout);
        for engine in [
            vec!["--engine", "sequential"],
            vec![
                "--engine",
                "parallel",
                "--threads",
                "2",
                "--fallback",
                "never",
            ],
            vec!["--engine", "parallel", "--threads", "4"],
        ] {
            let mut args = vec!["exec"];
            args.extend(engine.iter().copied());
            args.push(out);
            let run = pel(&args);
            assert_eq!(
                run.code, 0,
                "{workload} {engine:?}: {}{}",
                run.stdout, run.stderr
            );
            assert_eq!(
                run.stdout.lines().last(),
                Some("1 passed, 0 failed"),
                "{workload}"
            );
        }
    }
}

#[test]
fn gen_rejects_an_unknown_workload_and_names_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let run = pel(&["gen", "--workload", "nft", "--out", out.to_str().unwrap()]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown workload `nft`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hot-contract"), "{}", run.stderr);
    assert!(!out.exists());
}

#[test]
fn bench_prints_a_table_and_writes_json_and_a_plot() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let svg = dir.path().join("bench.svg");
    let run = pel(&[
        "bench",
        "--workload",
        "erc20,hot-contract",
        // The counter's chain shows in its first committed transactions: the chain check is
        // what this run should show.
        "--txs",
        "1000",
        "--runs",
        "1",
        "--threads",
        "1,2",
        "--json",
        json.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let rows: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("erc20") || l.starts_with("hot-contract"))
        .collect();
    assert_eq!(rows.len(), 4, "{}", run.stdout);
    assert!(
        run.stdout.contains("geomean on 1 thread:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("geomean on 2 threads:"),
        "{}",
        run.stdout
    );
    // Piped, the progress bar stays hidden.
    assert!(!run.stderr.contains('['), "{}", run.stderr);

    let records: Vec<Value> = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(records.len(), 4);
    for record in &records {
        for field in [
            "name",
            "txs",
            "gas",
            "threads",
            "sequential_ms",
            "parallel_ms",
            "speedup",
            "ideal_speedup",
            "efficiency",
            "re_executions",
            "peak_rss_mb",
            "host_steal_pct",
        ] {
            assert!(record.get(field).is_some(), "{field} missing in {record}");
        }
        // Where the machine tells, a percentage; the table then says it under the geomeans.
        if let Some(pct) = record["host_steal_pct"].as_f64() {
            assert!((0.0..=100.0).contains(&pct), "{record}");
            assert!(run.stdout.contains("host steal: "), "{}", run.stdout);
        }
        assert_eq!(record["txs"], 1000);
        assert!(record["speedup"].as_f64().unwrap() > 0.0);
        // The rounds' quartiles are speedups of real rounds, the lower one first.
        let (q1, q3) = (
            record["speedup_q1"].as_f64().unwrap(),
            record["speedup_q3"].as_f64().unwrap(),
        );
        assert!(0.0 < q1 && q1 <= q3, "{record}");
    }
    // The counter is one chain: its ideal speedup is 1 on any thread count.
    let hot = records
        .iter()
        .find(|r| r["name"] == "hot-contract" && r["threads"] == 2)
        .unwrap();
    assert!(hot["ideal_speedup"].as_f64().unwrap() < 1.05, "{hot}");
    assert_eq!(hot["mode"], "chain", "{hot}");
    let erc20 = records
        .iter()
        .find(|r| r["name"] == "erc20" && r["threads"] == 2)
        .unwrap();
    assert!(erc20["ideal_speedup"].as_f64().unwrap() > 1.5, "{erc20}");

    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.starts_with("<svg"), "{}", &plot[..plot.len().min(100)]);
    assert!(plot.contains("hot-contract") && plot.contains("ideal"));
}

#[test]
fn bench_measures_fixture_folders() {
    let dir = tempfile::tempdir().unwrap();
    let block = dir.path().join("amm-block");
    let out = block.to_str().unwrap();
    let run = pel(&["gen", "--workload", "amm", "--txs", "40", "--out", out]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = pel(&["bench", "--runs", "1", "--threads", "2", out]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("amm-block")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("transfers"),
        "only the given folder: {}",
        run.stdout
    );
}

#[test]
fn bench_reports_a_missing_folder_and_exits_non_zero() {
    let run = pel(&["bench", "--runs", "1", "/nonexistent/pel-fixtures"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("/nonexistent/pel-fixtures"),
        "{}",
        run.stderr
    );
}
