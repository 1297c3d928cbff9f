//! The scheme's domain invariants, checked by `verify` after a replay: the domain state and
//! the books tell the same story.

use std::collections::{BTreeSet, HashMap};

use super::chart;
use super::model::{AccumulatorKey, PatientStatus, Visit, VisitStatus};
use super::state::Scheme;
use crate::accounts::Balances;
use crate::insurance::PeriodPosition;
use crate::transfers::Movement;
use crate::verify::Audited;
use crate::{AccountId, HospitalId, Money, Timestamp, VisitId};

/// What the domain state says each account must hold, in fen: posted (debits − credits)
/// and pending (debits − credits).
#[derive(Default)]
struct Expected {
    posted: HashMap<AccountId, i128>,
    pending: HashMap<AccountId, i128>,
}

impl Expected {
    fn debit_posted(&mut self, account: AccountId, amount: Money) {
        *self.posted.entry(account).or_default() += i128::from(amount.fen());
    }

    fn credit_posted(&mut self, account: AccountId, amount: Money) {
        *self.posted.entry(account).or_default() -= i128::from(amount.fen());
    }
}

impl Audited for Scheme {
    fn change_movements(change: &super::event::SchemeChange) -> Vec<&Movement> {
        change.movements().collect()
    }

    fn all_balances(&self) -> Vec<(AccountId, Balances)> {
        self.books
            .accounts()
            .map(|account| (account.id.clone(), account.balances))
            .collect()
    }

    fn check_invariants(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for visit in self.visits.values() {
            check_visit(visit, &mut problems);
        }
        self.check_accounts(&mut problems);
        self.check_credit_lines(&mut problems);
        self.check_accumulators(&mut problems);
        self.check_desks(&mut problems);
        problems
    }
}

impl Scheme {
    /// The hospital desks' indexes list exactly what a scan of the visits finds: the open
    /// visits, and the settled ones in settlement order.
    fn check_desks(&self, problems: &mut Vec<String>) {
        let mut open: HashMap<&HospitalId, BTreeSet<&VisitId>> = HashMap::new();
        let mut settled: HashMap<&HospitalId, Vec<(u64, Timestamp, &VisitId)>> = HashMap::new();
        for visit in self.visits.values() {
            let hospital_id = &visit.key.hospital_id;
            if visit.status == VisitStatus::Open {
                open.entry(hospital_id)
                    .or_default()
                    .insert(&visit.key.visit_id);
            }
            if let Some(record) = &visit.settlement {
                settled.entry(hospital_id).or_default().push((
                    visit.settle_sequence,
                    record.settled_at,
                    &visit.key.visit_id,
                ));
            }
        }
        let hospitals: BTreeSet<&HospitalId> = self
            .desks
            .keys()
            .chain(open.keys().copied())
            .chain(settled.keys().copied())
            .collect();
        for hospital_id in hospitals {
            let desk = self.desks.get(hospital_id);
            let indexed_open: BTreeSet<&VisitId> =
                desk.into_iter().flat_map(|desk| desk.open.iter()).collect();
            if indexed_open != open.get(hospital_id).cloned().unwrap_or_default() {
                problems.push(format!(
                    "hospital {hospital_id}: the desk's open visits differ from the visits"
                ));
            }
            let mut scanned = settled.get(hospital_id).cloned().unwrap_or_default();
            scanned.sort();
            let scanned: Vec<(Timestamp, &VisitId)> = scanned
                .into_iter()
                .map(|(_, at, visit_id)| (at, visit_id))
                .collect();
            let indexed: Vec<(Timestamp, &VisitId)> = desk
                .into_iter()
                .flat_map(|desk| desk.settled.iter().map(|(at, visit_id)| (*at, visit_id)))
                .collect();
            if indexed != scanned {
                problems.push(format!(
                    "hospital {hospital_id}: the desk's settled visits differ from the visits"
                ));
            }
        }
    }

    /// Every account the domain state explains: patients', hospitals', plans' and the
    /// scheme's allowance and recoveries.
    fn check_accounts(&self, problems: &mut Vec<String>) {
        let expected = self.expected_balances();
        for (account, posted) in &expected.posted {
            let balances = self
                .books
                .account(account)
                .map(|found| found.balances)
                .unwrap_or_default();
            if balances.posted_signed_fen() != *posted {
                problems.push(format!(
                    "{account}: posted balance {} fen, the visits explain {posted} fen",
                    balances.posted_signed_fen()
                ));
            }
        }
        for (account, pending) in &expected.pending {
            let balances = self
                .books
                .account(account)
                .map(|found| found.balances)
                .unwrap_or_default();
            if balances.pending_signed_fen() != *pending {
                problems.push(format!(
                    "{account}: pending balance {} fen, the open visits hold {pending} fen",
                    balances.pending_signed_fen()
                ));
            }
        }
    }

    fn expected_balances(&self) -> Expected {
        let mut expected = Expected::default();
        expected.credit_posted(chart::allowance(), Money::ZERO);
        expected.credit_posted(chart::recoveries(), Money::ZERO);
        for patient in self.patients.values() {
            let patient_id = &patient.enrollment.patient_id;
            expected.credit_posted(chart::patient_msa(patient_id), patient.msa_balance);
            expected.credit_posted(chart::patient_refund_owed(patient_id), patient.refund_owed);
            expected.debit_posted(chart::patient_receivable(patient_id), Money::ZERO);
            expected
                .pending
                .entry(chart::patient_receivable(patient_id))
                .or_default();
        }
        for hospital in self.hospitals.values() {
            expected.debit_posted(
                chart::hospital_due_from_fund(&hospital.hospital_id),
                Money::ZERO,
            );
            expected.credit_posted(chart::hospital_payable(&hospital.hospital_id), Money::ZERO);
            expected
                .pending
                .entry(chart::hospital_payable(&hospital.hospital_id))
                .or_default();
        }
        for visit in self.visits.values() {
            add_visit(&mut expected, visit);
        }
        for record in self.remittances.records() {
            expected.credit_posted(
                chart::hospital_due_from_fund(&record.key.hospital_id),
                record.amount,
            );
            expected.debit_posted(chart::plan_fund_payable(&record.plan_id), record.amount);
        }
        expected
    }

    /// Available credit never below zero: holds plus what is owed stay within the limit.
    fn check_credit_lines(&self, problems: &mut Vec<String>) {
        for patient in self.patients.values() {
            let patient_id = &patient.enrollment.patient_id;
            let receivable = chart::patient_receivable(patient_id);
            let Some(account) = self.books.account(&receivable) else {
                problems.push(format!("{patient_id}: no receivable account"));
                continue;
            };
            if account.limit != chart::credit_line(patient.credit_limit) {
                problems.push(format!(
                    "{patient_id}: receivable limit differs from the credit limit"
                ));
            }
            if !account.within_limit() {
                problems.push(format!(
                    "{patient_id}: held plus outstanding exceed the credit limit"
                ));
            }
            let (_, past_due) = self.owed_by(patient);
            if patient.status == PatientStatus::Active && !past_due.is_zero() {
                problems.push(format!("{patient_id}: active with {past_due} past due"));
            }
        }
    }

    /// Accumulators equal the sum of their visits' settlements, and stay consistent.
    fn check_accumulators(&self, problems: &mut Vec<String>) {
        let mut summed: HashMap<AccumulatorKey, PeriodPosition> = HashMap::new();
        for visit in self.visits.values() {
            let Some(record) = &visit.settlement else {
                continue;
            };
            let key = AccumulatorKey {
                patient_id: visit.request.patient_id.clone(),
                plan_id: record.terms.plan_id.clone(),
                plan_year: record.terms.plan_year,
            };
            let deltas = record.current.accumulator_deltas();
            let position = summed.entry(key).or_default();
            position.deductible_used = add(position.deductible_used, deltas.deductible_used);
            position.in_scope_cumulative =
                add(position.in_scope_cumulative, deltas.in_scope_cumulative);
            position.fund_paid = add(position.fund_paid, deltas.fund_paid);
        }
        for (key, position) in &self.accumulators {
            if summed.get(key).copied().unwrap_or_default() != *position {
                problems.push(format!(
                    "accumulator {key:?}: {position:?} differs from its visits"
                ));
            }
            let taken = position.deductible_used.checked_add(position.fund_paid);
            if !matches!(taken, Some(taken) if taken <= position.in_scope_cumulative) {
                problems.push(format!(
                    "accumulator {key:?}: deductible plus fund exceed in-scope"
                ));
            }
        }
        if summed
            .keys()
            .any(|key| !self.accumulators.contains_key(key))
        {
            problems.push("a settled visit has no accumulator".to_owned());
        }
    }
}

fn add(left: Money, right: Money) -> Money {
    left.checked_add(right).unwrap_or(Money::MAX)
}

/// What one visit puts on the accounts.
fn add_visit(expected: &mut Expected, visit: &Visit) {
    let patient_id = &visit.request.patient_id;
    let hospital_id = &visit.key.hospital_id;
    if let Some(hold) = &visit.hold {
        let held = i128::from(hold.amount.fen());
        *expected
            .pending
            .entry(chart::patient_receivable(patient_id))
            .or_default() += held;
        *expected
            .pending
            .entry(chart::hospital_payable(hospital_id))
            .or_default() -= held;
    }
    let Some(record) = &visit.settlement else {
        return;
    };
    let figures = record.current;
    expected.debit_posted(
        chart::hospital_due_from_fund(hospital_id),
        figures.fund_paid,
    );
    expected.credit_posted(
        chart::plan_fund_payable(&record.terms.plan_id),
        figures.fund_paid,
    );
    expected.credit_posted(chart::hospital_payable(hospital_id), figures.msa_paid);
    expected.credit_posted(chart::hospital_payable(hospital_id), figures.financed);
    if visit.status.is_on_receivable() {
        expected.debit_posted(chart::patient_receivable(patient_id), visit.outstanding);
    }
    if visit.status == VisitStatus::Defaulted {
        expected.credit_posted(chart::allowance(), visit.outstanding);
    }
    expected.credit_posted(chart::recoveries(), visit.recovered);
}

fn check_visit(visit: &Visit, problems: &mut Vec<String>) {
    let key = &visit.key;
    if let Some(record) = &visit.settlement {
        for (name, figures) in [("original", record.original), ("current", record.current)] {
            if !figures.parts_sum_exactly() {
                problems.push(format!(
                    "visit {key:?}: {name} settlement parts do not sum to their wholes"
                ));
            }
        }
        let owed = i128::from(visit.outstanding.fen()) - i128::from(visit.refund_owed.fen());
        let financed = i128::from(record.current.financed.fen()) - i128::from(visit.paid.fen());
        if owed != financed {
            problems.push(format!(
                "visit {key:?}: outstanding − refund owed != financed − paid"
            ));
        }
    }
    let consistent = match visit.status {
        VisitStatus::Open => visit.settlement.is_none(),
        VisitStatus::Cancelled => visit.settlement.is_none() && visit.hold.is_none(),
        VisitStatus::Paid => visit.outstanding.is_zero(),
        VisitStatus::Overdue | VisitStatus::Defaulted | VisitStatus::WrittenOff => {
            !visit.outstanding.is_zero()
        }
        VisitStatus::Settled => visit.settlement.is_some(),
    };
    if !consistent || (visit.status != VisitStatus::Open && visit.hold.is_some()) {
        problems.push(format!(
            "visit {key:?}: status {:?} does not fit its amounts",
            visit.status
        ));
    }
}
