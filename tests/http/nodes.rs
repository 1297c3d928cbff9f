//! Several `treatfirst serve` nodes over one PostgreSQL database: the credit line holds and
//! nothing is applied twice whichever node takes a request; killing one node with SIGKILL
//! loses no acknowledged write and the other keeps serving; an embedded ledger moves into
//! PostgreSQL with `treatfirst migrate` and serves the same figures.
//!
//! Needs `TREATFIRST_TEST_DATABASE_URL` (a server whose user may create databases). Without
//! it these tests say they were skipped, unless `TREATFIRST_REQUIRE_POSTGRES=1` (CI).

use std::collections::HashMap;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use serde_json::{json, Value};

use crate::support::*;

/// The test server's URL, or `None` (skipped) when none is configured.
fn postgres_or_skip(test: &str) -> Option<String> {
    let server = database_server();
    if server.is_none() {
        assert!(
            std::env::var_os("TREATFIRST_REQUIRE_POSTGRES").is_none(),
            "TREATFIRST_REQUIRE_POSTGRES is set but TREATFIRST_TEST_DATABASE_URL is not"
        );
        eprintln!("{test}: skipped, set TREATFIRST_TEST_DATABASE_URL to run it");
    }
    server
}

fn fen(value: &Value) -> i64 {
    value.as_str().unwrap().replace('.', "").parse().unwrap()
}

const PATIENTS: usize = 4;

#[test]
fn two_nodes_share_one_ledger_and_one_survives_the_other_being_killed() {
    let Some(server) = postgres_or_skip("two_nodes") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let database = Arc::new(scratch_database(&server));
    let place = |name: &str| LedgerPlace {
        data_dir: directory.path().join(name),
        database: Some(Arc::clone(&database)),
    };
    let mut node_a = start_on(&place("a"), &[]);
    let node_b = start_on(&place("b"), &[]);
    // Tokens issued on node A work on node B.
    let scheme = setup(&node_a);
    for index in 0..PATIENTS {
        enroll(&node_b, &format!("Q{index}"), "0.00", "1000.00");
    }
    assert_eq!(node_a.patient("Q0")["credit_limit"], "1000.00");

    // 12 check-ins of 300.00 per patient, half on each node, all at once: 1000.00 of credit
    // holds three.
    let nodes = [&node_a, &node_b];
    let barrier = Barrier::new(PATIENTS * 12);
    let opened: Vec<(usize, usize, u16)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PATIENTS * 12)
            .map(|thread| {
                let (node, barrier, scheme) = (nodes[thread % 2], &barrier, &scheme);
                scope.spawn(move || {
                    let patient = thread % PATIENTS;
                    let body = visit_body(&format!("V{thread}"), &format!("Q{patient}"), "300.00");
                    barrier.wait();
                    let reply = node.post("/v1/hospitals/H1/visits", &scheme.hospital_1, &body);
                    (thread, patient, reply.status)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap())
            .collect()
    });
    for patient in 0..PATIENTS {
        let statuses: Vec<u16> = opened
            .iter()
            .filter(|(_, of, _)| *of == patient)
            .map(|(_, _, status)| *status)
            .collect();
        assert_eq!(statuses.iter().filter(|status| **status == 201).count(), 3);
        assert_eq!(statuses.iter().filter(|status| **status == 422).count(), 9);
        for node in nodes {
            let view = node.patient(&format!("Q{patient}"));
            assert_eq!(view["credit_held"], "900.00", "{view}");
            assert_eq!(view["available_credit"], "100.00", "{view}");
        }
    }

    // Each authorized visit is charged and settled on the node that did not open it.
    for (thread, _, _) in opened.iter().filter(|(_, _, status)| *status == 201) {
        let node = nodes[(thread + 1) % 2];
        let visit = format!("V{thread}");
        let charged = node.post(
            &format!("/v1/hospitals/H1/visits/{visit}/charges"),
            &scheme.hospital_1,
            &one_line_charge("C1", "C", "200.00"),
        );
        assert_eq!(charged.status, 201, "{}", charged.body);
        let settled = node.post(
            &format!("/v1/hospitals/H1/visits/{visit}/settle"),
            &scheme.hospital_1,
            &json!({}),
        );
        assert_eq!(settled.status, 200, "{}", settled.body);
        assert_eq!(settled.text("financed"), "200.00");
    }

    // Payments of 1.00 from four threads per node; every payment id is posted to both nodes
    // (a channel retrying elsewhere). Node A is killed with SIGKILL mid-stream.
    let attempted: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let acknowledged: Mutex<Vec<(Value, Reply)>> = Mutex::new(Vec::new());
    let after_kill_on_b = AtomicUsize::new(0);
    let count = AtomicUsize::new(0);
    let killed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        for thread in 0..8 {
            let node = nodes[thread % 2];
            let (attempted, acknowledged, count, killed, after_kill_on_b, scheme) = (
                &attempted,
                &acknowledged,
                &count,
                &killed,
                &after_kill_on_b,
                &scheme,
            );
            scope.spawn(move || {
                for round in 0..200 {
                    let who = format!("Q{}", (thread / 2 + round) % PATIENTS);
                    // Threads 2k and 2k+1 post the same ids, one to each node.
                    let id = format!("PAY-{}-{round}", thread / 2);
                    let body = json!({"payment_id": id, "patient_id": who, "amount": "1.00",
                                      "channel": "citizen_card"});
                    attempted.lock().unwrap().push((id, who));
                    let was_killed = killed.load(Ordering::SeqCst);
                    match node.try_send("POST", "/v1/payments", Some(&scheme.channel), Some(&body))
                    {
                        Ok(reply) => {
                            assert_eq!(reply.status, 201, "{}", reply.body);
                            acknowledged.lock().unwrap().push((body, reply));
                            count.fetch_add(1, Ordering::SeqCst);
                            if was_killed && thread % 2 == 1 {
                                after_kill_on_b.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(_) => {
                            assert_eq!(thread % 2, 0, "node B failed a request");
                            return;
                        }
                    }
                }
            });
        }
        while count.load(Ordering::SeqCst) < 150 {
            std::thread::yield_now();
        }
        let pid = node_a.pid().expect("node A runs").to_string();
        assert!(Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success());
        killed.store(true, Ordering::SeqCst);
    });
    node_a.kill_hard();
    assert!(
        after_kill_on_b.load(Ordering::SeqCst) > 0,
        "node B kept acknowledging payments after node A died"
    );

    // Every acknowledged payment is in the ledger once: replaying it on B changes nothing,
    // and the balances equal exactly the payments the ledger holds.
    let mut paid_fen: HashMap<String, i64> = HashMap::new();
    let mut ids: Vec<(String, String)> = attempted.into_inner().unwrap();
    ids.sort();
    ids.dedup();
    for (id, who) in &ids {
        let record = node_b.get(&format!("/v1/payments/{id}"), &scheme.channel);
        match record.status {
            200 => *paid_fen.entry(who.clone()).or_default() += 100,
            404 => {}
            other => panic!("GET payment {id}: {other} {}", record.body),
        }
    }
    let before: Vec<Value> = (0..PATIENTS)
        .map(|index| node_b.patient(&format!("Q{index}")))
        .collect();
    for (index, view) in before.iter().enumerate() {
        let paid = paid_fen.get(&format!("Q{index}")).copied().unwrap_or(0);
        assert_eq!(fen(&view["outstanding"]), 60_000 - paid, "{view}");
    }
    for (body, reply) in acknowledged.into_inner().unwrap() {
        let again = node_b.post("/v1/payments", &scheme.channel, &body);
        assert_eq!(again.status, 201, "{}", again.body);
        assert!(
            again.replayed,
            "{body} was acknowledged but is not in the ledger"
        );
        assert_eq!(again.body, reply.body);
    }
    let after: Vec<Value> = (0..PATIENTS)
        .map(|index| node_b.patient(&format!("Q{index}")))
        .collect();
    assert_eq!(after, before);

    // Node A comes back and reads what B wrote while it was down.
    let node_a = start_on(&place("a"), &[]);
    assert_eq!(node_a.patient("Q0"), node_b.patient("Q0"));
    drop((node_a, node_b));
    let (passed, output) = verify(&place("a"));
    assert!(passed, "verify on the database: {output}");
}

fn treatfirst(arguments: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_treatfirst"))
        .args(arguments)
        .env_remove("TREATFIRST_DATA_DIR")
        .env_remove("TREATFIRST_DATABASE_URL")
        .output()
        .expect("treatfirst runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn an_embedded_ledger_moves_into_postgres_and_serves_the_same_figures() {
    let Some(server) = postgres_or_skip("migrate") else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("embedded");
    let data = data_dir.to_str().unwrap();
    let (ok, output) = treatfirst(&[
        "simulate",
        "--patients",
        "1000",
        "--hospitals",
        "4",
        "--days",
        "45",
        "--quiet",
        "--data-dir",
        data,
    ]);
    assert!(ok, "{output}");
    let database = Arc::new(scratch_database(&server));
    let (ok, output) = treatfirst(&[
        "migrate",
        "--from-data-dir",
        data,
        "--to-database-url",
        database.url(),
    ]);
    assert!(ok, "{output}");
    assert!(output.contains("migrate: ok"), "{output}");
    // A second copy into the same database is refused.
    let (ok, output) = treatfirst(&[
        "migrate",
        "--from-data-dir",
        data,
        "--to-database-url",
        database.url(),
    ]);
    assert!(!ok);
    assert!(output.contains("copy only into an empty one"), "{output}");

    let (_, embedded_verify) = treatfirst(&["verify", "--data-dir", data]);
    let (ok, shared_verify) = treatfirst(&["verify", "--database-url", database.url()]);
    assert!(ok, "{shared_verify}");
    let head = |text: &str| {
        text.lines()
            .find(|line| line.starts_with("head_hash="))
            .map(str::to_owned)
    };
    assert_eq!(head(&embedded_verify), head(&shared_verify));
    assert!(head(&shared_verify).is_some());

    let embedded = start_on(
        &LedgerPlace {
            data_dir: data_dir.clone(),
            database: None,
        },
        &[],
    );
    let shared = start_on(
        &LedgerPlace {
            data_dir: directory.path().join("unused"),
            database: Some(database),
        },
        &[],
    );
    for path in [
        "/v1/reports/headline",
        // Mid-simulation, when visits are still owed (the simulation starts 2026-01-05).
        "/v1/reports/aging?as_of=2026-02-18T12:00:00Z",
        "/v1/patients/P0000001",
        "/v1/patients/P0000002/statement",
    ] {
        let (left, right) = (
            embedded.get(path, ADMIN_TOKEN),
            shared.get(path, ADMIN_TOKEN),
        );
        assert_eq!(left.status, 200, "{path}: {}", left.body);
        assert_eq!(left.body, right.body, "{path}");
    }
    let aging = shared.get("/v1/reports/aging?as_of=2026-02-18T12:00:00Z", ADMIN_TOKEN);
    assert!(aging.body["count"].as_u64().unwrap() > 0, "{}", aging.body);
}
