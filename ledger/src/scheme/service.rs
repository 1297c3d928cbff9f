//! The scheme as a service: [`Scheme`] run by the [`Engine`] over a journal store. The REST
//! layer calls this.

use std::path::Path;
use std::sync::{Arc, RwLockReadGuard};

use serde::Serialize;

use super::chart::{PatientAccount, TransferKind};
use super::command::{
    ChargeAdded, DelinquencyRun, MsaDeposited, Outcome, PaymentApplied, PlanStored, Refunded,
    SchemeCommand, SchemeError, SchemeReply, SettlementView, VisitCancelled, VisitOpened,
};
use super::event::SchemeChange;
use super::model::{
    ChargeRequest, Enrollment, Hospital, OpenVisitRequest, PaymentRequest, SchemeConfig, VisitKey,
};
use super::queries::{PatientView, PlanView, VisitView};
use super::state::Scheme;
use crate::engine::{Engine, EngineError};
use crate::insurance::{HospitalLevel, Plan};
use crate::journal::{AccountEntry, EntrySide, JournalStore, SledStore, StoreError};
use crate::transfers::Phase;
use crate::{
    ChargeId, Clock, DepositId, HospitalId, Money, PatientId, PlanId, RefundId, SystemClock,
    Timestamp, TransferId, VisitId,
};

/// The most statement entries one page returns.
pub const STATEMENT_PAGE_MAX: usize = 1_000;

/// Failures that are not refusals: storage, or a stopped engine.
#[derive(Debug, thiserror::Error)]
pub enum SchemeLedgerError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where a statement page ends: pass it back for the next page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementCursor {
    pub seq: u64,
    pub account: PatientAccount,
    pub index: u16,
}

/// A cursor on the wire: `seq.account.index` (`17.receivable.0`).
impl std::fmt::Display for StatementCursor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{}.{}.{}",
            self.seq,
            self.account.as_str(),
            self.index
        )
    }
}

/// A text that is not a cursor some statement page ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a cursor from a previous page's next")]
pub struct StatementCursorError;

impl std::str::FromStr for StatementCursor {
    type Err = StatementCursorError;

    fn from_str(text: &str) -> Result<StatementCursor, StatementCursorError> {
        let mut parts = text.splitn(3, '.');
        let seq = parts.next().and_then(|part| part.parse().ok());
        let account = parts.next().and_then(|part| {
            PatientAccount::ALL
                .into_iter()
                .find(|account| account.as_str() == part)
        });
        let index = parts.next().and_then(|part| part.parse().ok());
        match (seq, account, index) {
            (Some(seq), Some(account), Some(index)) => Ok(StatementCursor {
                seq,
                account,
                index,
            }),
            _ => Err(StatementCursorError),
        }
    }
}

/// One row of a patient's statement: one side of one movement on one of the patient's
/// accounts, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatementEntry {
    pub cursor: StatementCursor,
    pub at: Timestamp,
    pub account: PatientAccount,
    /// What the transfer was for (`settle`, `payment`, ...).
    pub kind: Option<TransferKind>,
    pub transfer_id: Option<TransferId>,
    /// The journal event (`visit_settled`, ...) and the visit it concerns.
    pub event: Option<&'static str>,
    pub visit: Option<VisitKey>,
    pub side: EntrySide,
    pub phase: Phase,
    pub amount: Money,
    /// The account's posted balance on its normal side after the record.
    pub balance_after: Money,
    /// The receivable's holds after the record (zero on other accounts).
    pub held_after: Money,
}

/// The credit scheme on durable storage.
pub struct SchemeLedger {
    engine: Engine<Scheme>,
}

/// The first event of a journal record, and the visit the record concerns.
type RecordEvent = Option<(&'static str, Option<VisitKey>)>;

type Typed<T> = Result<Result<T, SchemeError>, SchemeLedgerError>;

impl SchemeLedger {
    /// Opens (or creates) the scheme in `directory` (sled) with the system clock and the
    /// default settings.
    ///
    /// # Errors
    /// The store cannot be opened or its journal does not replay.
    pub fn open(directory: &Path) -> Result<SchemeLedger, SchemeLedgerError> {
        SchemeLedger::open_with(directory, SchemeConfig::default(), Arc::new(SystemClock))
    }

    /// # Errors
    /// The store cannot be opened or its journal does not replay.
    pub fn open_with(
        directory: &Path,
        config: SchemeConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<SchemeLedger, SchemeLedgerError> {
        let store = Arc::new(SledStore::open(directory)?);
        SchemeLedger::with_store(store, config, clock)
    }

    /// # Errors
    /// The journal cannot be read or does not replay.
    pub fn with_store(
        store: Arc<dyn JournalStore>,
        config: SchemeConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<SchemeLedger, SchemeLedgerError> {
        Ok(SchemeLedger {
            engine: Engine::open(store, Scheme::new(config), clock)?,
        })
    }

    pub fn engine(&self) -> &Engine<Scheme> {
        &self.engine
    }

    /// Reads the state (reports, invariants). Holds the writer off: keep it short.
    pub fn read(&self) -> RwLockReadGuard<'_, Scheme> {
        self.engine.read()
    }

    /// Executes a command and waits until it is durable.
    ///
    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn submit(&self, command: SchemeCommand) -> Result<SchemeReply, SchemeLedgerError> {
        Ok(self.engine.submit(command)?)
    }

    /// Executes commands in order as one submission (they share one commit).
    ///
    /// # Errors
    /// Storage failure (each refusal is in its own reply).
    pub fn submit_many(
        &self,
        commands: Vec<SchemeCommand>,
    ) -> Result<Vec<SchemeReply>, SchemeLedgerError> {
        Ok(self.engine.submit_many(commands)?)
    }

    /// Submits without waiting: `reply` runs on the writer thread once the command is
    /// durable (an async service sends it on to the request's task).
    pub fn submit_with(
        &self,
        command: SchemeCommand,
        reply: impl FnOnce(Result<SchemeReply, EngineError>) + Send + 'static,
    ) {
        self.engine.submit_with(vec![command], move |result| {
            reply(result.map(|mut replies| replies.pop().expect("one reply per command")));
        });
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn put_plan(&self, plan_id: PlanId, plan: Plan) -> Typed<PlanStored> {
        self.typed(
            SchemeCommand::PutPlan { plan_id, plan },
            |outcome| match outcome {
                Outcome::PlanStored(stored) => Some(stored),
                _ => None,
            },
        )
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn put_hospital(
        &self,
        hospital_id: HospitalId,
        name: &str,
        level: HospitalLevel,
    ) -> Typed<Hospital> {
        let command = SchemeCommand::PutHospital {
            hospital_id,
            name: name.to_owned(),
            level,
        };
        self.typed(command, |outcome| match outcome {
            Outcome::HospitalStored(hospital) => Some(hospital),
            _ => None,
        })
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn enroll_patient(&self, enrollment: Enrollment) -> Typed<PatientView> {
        self.typed(SchemeCommand::EnrollPatient(enrollment), patient_outcome)
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn deposit_msa(
        &self,
        patient_id: PatientId,
        deposit_id: DepositId,
        amount: Money,
    ) -> Typed<MsaDeposited> {
        self.typed(
            SchemeCommand::DepositMsa {
                patient_id,
                deposit_id,
                amount,
            },
            |outcome| match outcome {
                Outcome::MsaDeposited(deposit) => Some(deposit),
                _ => None,
            },
        )
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn set_credit_limit(
        &self,
        patient_id: PatientId,
        credit_limit: Money,
    ) -> Typed<PatientView> {
        self.typed(
            SchemeCommand::SetCreditLimit {
                patient_id,
                credit_limit,
            },
            patient_outcome,
        )
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn revoke_patient(&self, patient_id: PatientId) -> Typed<PatientView> {
        self.typed(SchemeCommand::RevokePatient { patient_id }, patient_outcome)
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn open_visit(
        &self,
        hospital_id: HospitalId,
        request: OpenVisitRequest,
    ) -> Typed<VisitOpened> {
        self.typed(
            SchemeCommand::OpenVisit {
                hospital_id,
                request,
            },
            |outcome| match outcome {
                Outcome::VisitOpened(opened) => Some(opened),
                _ => None,
            },
        )
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn add_charge(
        &self,
        hospital_id: HospitalId,
        visit_id: VisitId,
        charge: ChargeRequest,
    ) -> Typed<ChargeAdded> {
        self.typed(
            SchemeCommand::AddCharge {
                hospital_id,
                visit_id,
                charge,
            },
            |outcome| match outcome {
                Outcome::ChargeAdded(added) => Some(added),
                _ => None,
            },
        )
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn settle(&self, hospital_id: HospitalId, visit_id: VisitId) -> Typed<SettlementView> {
        self.typed(
            SchemeCommand::Settle {
                hospital_id,
                visit_id,
            },
            |outcome| match outcome {
                Outcome::Settled(settlement) => Some(settlement),
                _ => None,
            },
        )
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn cancel(&self, hospital_id: HospitalId, visit_id: VisitId) -> Typed<VisitCancelled> {
        self.typed(
            SchemeCommand::Cancel {
                hospital_id,
                visit_id,
            },
            |outcome| match outcome {
                Outcome::Cancelled(cancelled) => Some(cancelled),
                _ => None,
            },
        )
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn refund(
        &self,
        hospital_id: HospitalId,
        visit_id: VisitId,
        refund_id: RefundId,
        charge_id: ChargeId,
    ) -> Typed<Refunded> {
        let command = SchemeCommand::Refund {
            hospital_id,
            visit_id,
            refund_id,
            charge_id,
        };
        self.typed(command, |outcome| match outcome {
            Outcome::Refunded(refunded) => Some(refunded),
            _ => None,
        })
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn pay(&self, request: PaymentRequest) -> Typed<PaymentApplied> {
        self.typed(SchemeCommand::Pay(request), |outcome| match outcome {
            Outcome::PaymentApplied(applied) => Some(applied),
            _ => None,
        })
    }

    /// # Errors
    /// Storage failure (a refusal is the inner result).
    pub fn run_delinquency(&self, as_of: Timestamp) -> Typed<DelinquencyRun> {
        self.typed(
            SchemeCommand::RunDelinquency { as_of },
            |outcome| match outcome {
                Outcome::DelinquencyRun(run) => Some(run),
                _ => None,
            },
        )
    }

    /// `GET /v1/patients/{patient_id}`.
    pub fn patient(&self, patient_id: &PatientId) -> Option<PatientView> {
        self.engine.read().patient_view(patient_id)
    }

    /// `GET /v1/hospitals/{hospital_id}/visits/{visit_id}`.
    pub fn visit(&self, hospital_id: &HospitalId, visit_id: &VisitId) -> Option<VisitView> {
        let key = VisitKey {
            hospital_id: hospital_id.clone(),
            visit_id: visit_id.clone(),
        };
        self.engine.read().visit_view(&key)
    }

    pub fn plan(&self, plan_id: &PlanId) -> Option<PlanView> {
        self.engine.read().plan(plan_id)
    }

    /// `GET /v1/patients/{patient_id}/statement`: the entries of the patient's receivable,
    /// MSA and refund accounts after `after`, oldest first, at most `limit` (capped at
    /// [`STATEMENT_PAGE_MAX`]). `None` for an unknown patient.
    ///
    /// # Errors
    /// Storage failure.
    pub fn statement(
        &self,
        patient_id: &PatientId,
        after: Option<StatementCursor>,
        limit: usize,
    ) -> Result<Option<Vec<StatementEntry>>, SchemeLedgerError> {
        if self.engine.read().patient(patient_id).is_none() {
            return Ok(None);
        }
        let limit = limit.min(STATEMENT_PAGE_MAX);
        let store = self.engine.store();
        let mut rows: Vec<(PatientAccount, AccountEntry)> = Vec::new();
        for account in PatientAccount::ALL {
            let from = after.and_then(|cursor| account_cursor(cursor, account));
            let entries = store.account_entries(&account.id(patient_id), from, limit)?;
            rows.extend(entries.into_iter().map(|entry| (account, entry)));
        }
        rows.sort_by_key(|(account, entry)| (entry.seq, *account, entry.index));
        rows.truncate(limit);
        let mut events: Option<(u64, RecordEvent)> = None;
        let mut statement = Vec::with_capacity(rows.len());
        for (account, entry) in rows {
            if !matches!(&events, Some((seq, _)) if *seq == entry.seq) {
                events = Some((entry.seq, record_event(store.as_ref(), entry.seq)?));
            }
            let event = events.as_ref().and_then(|(_, event)| event.clone());
            statement.push(statement_entry(account, entry, event));
        }
        Ok(Some(statement))
    }

    fn typed<T>(
        &self,
        command: SchemeCommand,
        extract: impl FnOnce(Outcome) -> Option<T>,
    ) -> Typed<T> {
        let reply = self.submit(command)?;
        Ok(reply.map(|accepted| extract(accepted.outcome).expect("each command has its outcome")))
    }
}

fn patient_outcome(outcome: Outcome) -> Option<PatientView> {
    match outcome {
        Outcome::Patient(view) => Some(view),
        _ => None,
    }
}

/// Where to resume one account's entries after a merged cursor.
fn account_cursor(cursor: StatementCursor, account: PatientAccount) -> Option<(u64, u16)> {
    match account.cmp(&cursor.account) {
        std::cmp::Ordering::Less => Some((cursor.seq, u16::MAX)),
        std::cmp::Ordering::Equal => Some((cursor.seq, cursor.index)),
        std::cmp::Ordering::Greater => cursor.seq.checked_sub(1).map(|seq| (seq, u16::MAX)),
    }
}

/// The first event of a journal record and the visit it concerns.
fn record_event(store: &dyn JournalStore, seq: u64) -> Result<RecordEvent, SchemeLedgerError> {
    let Some(record) = store.records_from(seq).next().transpose()? else {
        return Ok(None);
    };
    let change: SchemeChange =
        postcard::from_bytes(&record.payload).map_err(|error| StoreError::Corrupt {
            seq,
            reason: error.to_string(),
        })?;
    Ok(change.events.first().map(|event| {
        let visit = change
            .events
            .iter()
            .find_map(|event| event.visit().cloned());
        (event.name(), visit)
    }))
}

fn statement_entry(
    account: PatientAccount,
    entry: AccountEntry,
    event: RecordEvent,
) -> StatementEntry {
    let (event, visit) = match event {
        Some((name, visit)) => (Some(name), visit),
        None => (None, None),
    };
    let held_after = match account {
        PatientAccount::Receivable => entry.balances_after.debits_pending,
        _ => Money::ZERO,
    };
    StatementEntry {
        cursor: StatementCursor {
            seq: entry.seq,
            account,
            index: entry.index,
        },
        at: entry.timestamp,
        account,
        kind: entry.transfer_id.as_ref().and_then(TransferKind::of),
        transfer_id: entry.transfer_id,
        event,
        visit,
        side: entry.side,
        phase: entry.phase,
        amount: entry.amount,
        balance_after: entry.balances_after.posted(account.normal()),
        held_after,
    }
}
