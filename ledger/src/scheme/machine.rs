//! The scheme as a [`StateMachine`] the engine runs: command dispatch, hold expiry, replay
//! and the account entries of each record.

use super::admin::Executed;
use super::command::{SchemeCommand, SchemeReply};
use super::event::{SchemeChange, SchemeEvent};
use super::model::{Hospital, VisitKey};
use super::state::{Refusal, Scheme};
use crate::books::LedgerChange;
use crate::engine::StateMachine;
use crate::journal::AccountEntry;
use crate::ledger::ledger_entries;
use crate::Timestamp;

impl Scheme {
    /// Executes one command at `now`. A refused command changes nothing and returns no
    /// change; holds due at `now` are released first (their records come first).
    pub fn execute_command(
        &mut self,
        command: SchemeCommand,
        now: Timestamp,
    ) -> (SchemeReply, Vec<SchemeChange>) {
        let mut changes = self.expire_holds(now);
        match self.dispatch(command, now) {
            Ok((accepted, executed)) => {
                changes.extend(executed);
                (Ok(accepted), changes)
            }
            Err(refusal) => {
                changes.extend(refusal.changes);
                (Err(refusal.error), changes)
            }
        }
    }

    fn dispatch(&mut self, command: SchemeCommand, now: Timestamp) -> Result<Executed, Refusal> {
        match command {
            SchemeCommand::PutPlan { plan_id, plan } => self.put_plan(plan_id, plan, now),
            SchemeCommand::PutHospital {
                hospital_id,
                name,
                level,
            } => self.put_hospital(
                Hospital {
                    hospital_id,
                    name,
                    level,
                },
                now,
            ),
            SchemeCommand::EnrollPatient(enrollment) => self.enroll(enrollment, now),
            SchemeCommand::DepositMsa {
                patient_id,
                deposit_id,
                amount,
            } => self.deposit_msa(patient_id, deposit_id, amount, now),
            SchemeCommand::SetCreditLimit {
                patient_id,
                credit_limit,
            } => self.set_credit_limit(patient_id, credit_limit, now),
            SchemeCommand::RevokePatient { patient_id } => self.revoke(patient_id, now),
            SchemeCommand::OpenVisit {
                hospital_id,
                request,
            } => self.open_visit(hospital_id, request, now),
            SchemeCommand::AddCharge {
                hospital_id,
                visit_id,
                charge,
            } => self.add_charge(hospital_id, visit_id, charge, now),
            SchemeCommand::Settle {
                hospital_id,
                visit_id,
            } => self.settle(hospital_id, visit_id, now),
            SchemeCommand::Cancel {
                hospital_id,
                visit_id,
            } => self.cancel(hospital_id, visit_id, now),
            SchemeCommand::Refund {
                hospital_id,
                visit_id,
                refund_id,
                charge_id,
            } => self.refund(
                VisitKey {
                    hospital_id,
                    visit_id,
                },
                refund_id,
                charge_id,
                now,
            ),
            SchemeCommand::Pay(request) => self.pay(request, now),
            SchemeCommand::RunDelinquency { as_of } => self.run_delinquency(as_of, now),
            SchemeCommand::RemitFund(remittance) => self.remit_fund(remittance, now),
        }
    }

    /// Releases every hold due at `now` (the engine has usually done so already through
    /// `housekeeping`, one record at a time).
    fn expire_holds(&mut self, now: Timestamp) -> Vec<SchemeChange> {
        std::iter::from_fn(|| self.expire_next_hold(now)).collect()
    }

    /// Releases the next hold due at `now`, if any: one record per hold, naming its visit.
    fn expire_next_hold(&mut self, now: Timestamp) -> Option<SchemeChange> {
        let ledger_change = self.books.expire_next(now)?;
        let LedgerChange::Expired { pending_id, .. } = &ledger_change else {
            unreachable!("expiry makes Expired changes");
        };
        let key = self
            .holds
            .get(pending_id)
            .cloned()
            .expect("every hold belongs to a visit");
        let event = SchemeEvent::HoldExpired { key };
        self.apply_event(&event, now);
        Some(SchemeChange {
            events: vec![event],
            ledger: vec![ledger_change],
        })
    }
}

impl StateMachine for Scheme {
    type Command = SchemeCommand;
    type Reply = SchemeReply;
    type Change = SchemeChange;
    const JOURNAL_KIND: crate::journal::JournalKind = crate::journal::JournalKind::Scheme;

    fn execute(
        &mut self,
        command: SchemeCommand,
        now: Timestamp,
    ) -> (SchemeReply, Vec<SchemeChange>) {
        self.execute_command(command, now)
    }

    fn housekeeping(&mut self, now: Timestamp) -> Option<SchemeChange> {
        self.expire_next_hold(now)
    }

    fn replay(&mut self, change: &SchemeChange, at: Timestamp) {
        self.apply_change(change, at);
    }

    /// The entries of every ledger change of the record, numbered per account across the
    /// whole record (the store keys entries by account, record and that number).
    fn entries(&self, change: &SchemeChange, out: &mut Vec<AccountEntry>) {
        let first = out.len();
        for ledger_change in &change.ledger {
            ledger_entries(&self.books, ledger_change, out);
        }
        if change.ledger.len() > 1 {
            renumber_per_account(&mut out[first..]);
        }
    }
}

/// Numbers each account's entries 0, 1, 2, ... across a whole record (one ledger change
/// numbers them already).
fn renumber_per_account(entries: &mut [AccountEntry]) {
    let mut seen: std::collections::HashMap<crate::AccountId, u16> =
        std::collections::HashMap::new();
    for entry in entries {
        let next = seen.entry(entry.account.clone()).or_insert(0);
        entry.index = *next;
        *next += 1;
    }
}
