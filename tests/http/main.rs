//! The black-box HTTP suite: the real server, spawned on port 0, driven over HTTP.

mod support;

mod access;
mod admin;
mod bad_input;
mod concurrency;
mod crash;
mod fuzz;
mod hospital_desk;
mod idempotency;
mod nodes;
mod operations;
mod patients;
mod payments;
mod risk;
mod visits;

mod smoke {
    use crate::support::*;

    #[test]
    fn the_worked_example_settles_over_http() {
        let app = spawn_app();
        let scheme = setup(&app);
        let settled = settled_visit(&app, &scheme, "V1");
        for (field, amount) in [
            ("total", "380.00"),
            ("full_self_pay", "40.00"),
            ("pre_self_pay", "37.50"),
            ("in_scope", "302.50"),
            ("deductible", "100.00"),
            ("fund_paid", "162.00"),
            ("personal_share", "218.00"),
            ("msa_paid", "50.00"),
            ("cash_due", "168.00"),
            ("financed", "168.00"),
            ("collect_now", "0.00"),
        ] {
            assert_eq!(settled.text(field), amount, "{field}");
        }
        let patient = app.get("/v1/patients/P1", &scheme.patient_1);
        assert_eq!(patient.status, 200);
        assert_eq!(patient.text("outstanding"), "168.00");
        assert_eq!(patient.text("available_credit"), "4832.00");
        let paid = paid_by_alipay(&app, &scheme, "PAY1", "100.00");
        assert_eq!(paid.text("outstanding"), "68.00");
    }
}
