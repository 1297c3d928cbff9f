//! The chart of accounts: how the scheme names its ledger accounts and transfers.
//!
//! Account ids are `<owner kind>:<owner id>:<role>`; client ids are at most 64 characters,
//! so every id stays within [`crate::ids::ACCOUNT_ID_LENGTH_MAX`]. The postings each event
//! makes are documented in the module docs of [`crate::scheme`].

use crate::accounts::{AccountLimit, AccountSpec, Normal};
use crate::ids::ACCOUNT_ID_LENGTH_MAX;
use crate::{AccountId, ChannelId, HospitalId, Money, PatientId, PlanId, TransferId};

const _: () = assert!(ACCOUNT_ID_LENGTH_MAX >= "hospital:".len() + 64 + ":due_from_fund".len());

/// The scheme's own accounts.
pub mod scheme_accounts {
    /// Allowance for credit losses (credit-normal, a contra-asset of the receivables).
    pub const ALLOWANCE: &str = "scheme:allowance";
    /// Credit loss (provision and write-off) expense (debit-normal).
    pub const CREDIT_LOSS_EXPENSE: &str = "scheme:credit_loss_expense";
    /// Amounts recovered after default (credit-normal income).
    pub const RECOVERIES: &str = "scheme:recoveries";
}

fn account(text: String) -> AccountId {
    AccountId::new(&text).expect("composed account ids are valid")
}

/// What the patient owes (debit-normal). Holds are its pending debits; the credit line is its
/// limit, so `outstanding + held <= credit_limit` is enforced by the books themselves.
pub fn patient_receivable(patient: &PatientId) -> AccountId {
    account(format!("patient:{patient}:receivable"))
}

/// The personal medical account (credit-normal, never overdrawn).
pub fn patient_msa(patient: &PatientId) -> AccountId {
    account(format!("patient:{patient}:msa"))
}

/// Money owed back to the patient after a refund (credit-normal).
pub fn patient_refund_owed(patient: &PatientId) -> AccountId {
    account(format!("patient:{patient}:refund_owed"))
}

/// What the fund owes the hospital (debit-normal).
pub fn hospital_due_from_fund(hospital: &HospitalId) -> AccountId {
    account(format!("hospital:{hospital}:due_from_fund"))
}

/// What the scheme owes the hospital: MSA and financed shares (credit-normal). Holds are
/// its pending credits (the payment guaranteed to the hospital).
pub fn hospital_payable(hospital: &HospitalId) -> AccountId {
    account(format!("hospital:{hospital}:payable"))
}

/// What the plan's pooled fund owes hospitals (credit-normal).
pub fn plan_fund_payable(plan: &PlanId) -> AccountId {
    account(format!("plan:{plan}:fund_payable"))
}

/// Where MSA money comes from: the plan's contributions (debit-normal).
pub fn plan_msa_funding(plan: &PlanId) -> AccountId {
    account(format!("plan:{plan}:msa_funding"))
}

/// Cash received through a payment channel, awaiting its statement (debit-normal).
pub fn channel_clearing(channel: &ChannelId) -> AccountId {
    account(format!("channel:{channel}:clearing"))
}

pub fn allowance() -> AccountId {
    account(scheme_accounts::ALLOWANCE.to_owned())
}

pub fn credit_loss_expense() -> AccountId {
    account(scheme_accounts::CREDIT_LOSS_EXPENSE.to_owned())
}

pub fn recoveries() -> AccountId {
    account(scheme_accounts::RECOVERIES.to_owned())
}

/// The accounts opened with a patient.
pub fn patient_accounts(patient: &PatientId, credit_limit: Money) -> [AccountSpec; 3] {
    [
        AccountSpec {
            id: patient_receivable(patient),
            limit: credit_line(credit_limit),
        },
        AccountSpec {
            id: patient_msa(patient),
            limit: AccountLimit::DebitsWithinCredits { limit: Money::ZERO },
        },
        unbounded(patient_refund_owed(patient)),
    ]
}

/// The limit of a patient's receivable: the credit line.
pub fn credit_line(credit_limit: Money) -> AccountLimit {
    AccountLimit::DebitsWithinCredits {
        limit: credit_limit,
    }
}

pub fn hospital_accounts(hospital: &HospitalId) -> [AccountSpec; 2] {
    [
        unbounded(hospital_due_from_fund(hospital)),
        unbounded(hospital_payable(hospital)),
    ]
}

pub fn plan_accounts(plan: &PlanId) -> [AccountSpec; 2] {
    [
        unbounded(plan_fund_payable(plan)),
        unbounded(plan_msa_funding(plan)),
    ]
}

pub fn scheme_account_specs() -> [AccountSpec; 3] {
    [
        unbounded(allowance()),
        unbounded(credit_loss_expense()),
        unbounded(recoveries()),
    ]
}

pub fn unbounded(id: AccountId) -> AccountSpec {
    AccountSpec {
        id,
        limit: AccountLimit::Unbounded,
    }
}

/// The role of one of a patient's accounts, for statements.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PatientAccount {
    Receivable,
    Msa,
    RefundOwed,
}

impl PatientAccount {
    pub const ALL: [PatientAccount; 3] = [
        PatientAccount::Receivable,
        PatientAccount::Msa,
        PatientAccount::RefundOwed,
    ];

    pub fn id(self, patient: &PatientId) -> AccountId {
        match self {
            PatientAccount::Receivable => patient_receivable(patient),
            PatientAccount::Msa => patient_msa(patient),
            PatientAccount::RefundOwed => patient_refund_owed(patient),
        }
    }

    /// The name on the wire (as serde writes it).
    pub const fn as_str(self) -> &'static str {
        match self {
            PatientAccount::Receivable => "receivable",
            PatientAccount::Msa => "msa",
            PatientAccount::RefundOwed => "refund_owed",
        }
    }

    pub fn normal(self) -> Normal {
        match self {
            PatientAccount::Receivable => Normal::Debit,
            PatientAccount::Msa | PatientAccount::RefundOwed => Normal::Credit,
        }
    }
}

/// What a transfer is for: the prefix of its id (`settle-17`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    MsaDeposit,
    Hold,
    HoldRelease,
    Settle,
    Refund,
    Payment,
    Provision,
    WriteOff,
    FundRemittance,
}

impl TransferKind {
    const ALL: [TransferKind; 9] = [
        TransferKind::MsaDeposit,
        TransferKind::Hold,
        TransferKind::HoldRelease,
        TransferKind::Settle,
        TransferKind::Refund,
        TransferKind::Payment,
        TransferKind::Provision,
        TransferKind::WriteOff,
        TransferKind::FundRemittance,
    ];

    pub const fn prefix(self) -> &'static str {
        match self {
            TransferKind::MsaDeposit => "msa_deposit",
            TransferKind::Hold => "hold",
            TransferKind::HoldRelease => "hold_release",
            TransferKind::Settle => "settle",
            TransferKind::Refund => "refund",
            TransferKind::Payment => "payment",
            TransferKind::Provision => "provision",
            TransferKind::WriteOff => "write_off",
            TransferKind::FundRemittance => "fund_remittance",
        }
    }

    /// The kind named by a transfer id's prefix.
    pub fn of(id: &TransferId) -> Option<TransferKind> {
        let (prefix, _) = id.as_str().rsplit_once('-')?;
        TransferKind::ALL
            .into_iter()
            .find(|kind| kind.prefix() == prefix)
    }
}

/// Hands out transfer ids: `<kind>-<n>`, where n numbers every transfer the books hold, so
/// ids are unique and the same on replay.
pub struct TransferIds {
    next: usize,
}

impl TransferIds {
    /// Starts after the `recorded` transfers the books already hold.
    pub fn after(recorded: usize) -> TransferIds {
        TransferIds { next: recorded + 1 }
    }

    pub fn next(&mut self, kind: TransferKind) -> TransferId {
        let id = format!("{}-{}", kind.prefix(), self.next);
        self.next += 1;
        TransferId::new(&id).expect("composed transfer ids are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_fit_with_the_longest_client_ids() {
        let long = "x".repeat(64);
        let patient = PatientId::new(&long).unwrap();
        let hospital = HospitalId::new(&long).unwrap();
        assert!(patient_refund_owed(&patient).as_str().len() <= ACCOUNT_ID_LENGTH_MAX);
        assert!(hospital_due_from_fund(&hospital).as_str().len() <= ACCOUNT_ID_LENGTH_MAX);
    }

    #[test]
    fn transfer_ids_name_their_kind() {
        let mut ids = TransferIds::after(16);
        let hold = ids.next(TransferKind::HoldRelease);
        assert_eq!(hold.as_str(), "hold_release-17");
        assert_eq!(TransferKind::of(&hold), Some(TransferKind::HoldRelease));
        assert_eq!(
            TransferKind::of(&ids.next(TransferKind::WriteOff)),
            Some(TransferKind::WriteOff)
        );
        assert_eq!(TransferKind::of(&TransferId::new("other").unwrap()), None);
    }
}
