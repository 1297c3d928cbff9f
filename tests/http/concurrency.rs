//! Concurrent requests against one credit line and one payment id: the credit is never
//! over-committed and nothing is applied twice.

use std::sync::Barrier;

use serde_json::json;

use crate::support::*;

#[test]
fn concurrent_check_ins_never_overcommit_a_credit_line() {
    let app = spawn_app();
    let scheme = setup(&app);
    // 1000.00 of credit: exactly ten estimates of 100.00.
    enroll(&app, "P3", "0.00", "1000.00");
    let barrier = Barrier::new(24);
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..24)
            .map(|index| {
                let (app, barrier, token) = (&app, &barrier, &scheme.hospital_1);
                scope.spawn(move || {
                    barrier.wait();
                    app.post(
                        "/v1/hospitals/H1/visits",
                        token,
                        &visit_body(&format!("V{index}"), "P3", "100.00"),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    let opened: Vec<&Reply> = replies.iter().filter(|reply| reply.status == 201).collect();
    let declined: Vec<&Reply> = replies.iter().filter(|reply| reply.status != 201).collect();
    assert_eq!(opened.len(), 10, "{replies:?}");
    assert_eq!(declined.len(), 14);
    for reply in &opened {
        assert_eq!(reply.text("authorized_amount"), "100.00");
    }
    for reply in declined {
        assert_problem(reply, 422, "insufficient_credit");
    }
    let patient = app.patient("P3");
    assert_eq!(patient["credit_held"], "1000.00");
    assert_eq!(patient["available_credit"], "0.00");
    let visits = app.get("/v1/patients/P3/visits", ADMIN_TOKEN);
    assert_eq!(visits.body["visits"].as_array().unwrap().len(), 10);
}

#[test]
fn concurrent_repeats_of_one_payment_apply_it_once() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    let payment = json!({"payment_id": "PAY1", "patient_id": "P1", "amount": "60.00",
                         "channel": "alipay"});
    let barrier = Barrier::new(12);
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..12)
            .map(|index| {
                let (app, barrier, payment) = (&app, &barrier, &payment);
                let token = if index % 2 == 0 {
                    &scheme.channel
                } else {
                    &scheme.patient_1
                };
                scope.spawn(move || {
                    barrier.wait();
                    app.post("/v1/payments", token, payment)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    assert!(
        replies.iter().all(|reply| reply.status == 201),
        "{replies:?}"
    );
    assert_eq!(replies.iter().filter(|reply| !reply.replayed).count(), 1);
    assert!(replies.iter().all(|reply| reply.body == replies[0].body));
    assert_eq!(replies[0].text("outstanding"), "108.00");
    assert_eq!(app.patient("P1")["outstanding"], "108.00");
}

#[test]
fn concurrent_payments_never_exceed_what_is_outstanding() {
    let app = spawn_app();
    let scheme = setup(&app);
    settled_visit(&app, &scheme, "V1");
    // 168.00 outstanding; 20 payments of 10.00 at once: 16 fit.
    let barrier = Barrier::new(20);
    let replies: Vec<Reply> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|index| {
                let (app, barrier, token) = (&app, &barrier, &scheme.channel);
                scope.spawn(move || {
                    barrier.wait();
                    app.post(
                        "/v1/payments",
                        token,
                        &json!({"payment_id": format!("PAY{index}"), "patient_id": "P1",
                                "amount": "10.00", "channel": "alipay"}),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    let accepted = replies.iter().filter(|reply| reply.status == 201).count();
    assert_eq!(accepted, 16, "{replies:?}");
    for reply in replies.iter().filter(|reply| reply.status != 201) {
        assert_problem(reply, 422, "amount_exceeds_outstanding");
    }
    assert_eq!(app.patient("P1")["outstanding"], "8.00");
}
