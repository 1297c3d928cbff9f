//! One newtype per identifier. Ids are client-chosen strings of 1 to 64 characters from
//! `[A-Za-z0-9._:-]` (API.md); account ids, composed by the ledger, may be longer.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} must be at most {max} characters")]
    TooLong { kind: &'static str, max: usize },
    #[error("{kind} may only contain letters, digits and . _ : -")]
    InvalidCharacter { kind: &'static str },
}

/// The longest client-chosen id.
pub const ID_LENGTH_MAX: usize = 64;
/// The longest account id (composed from a prefix, a client id and a suffix).
pub const ACCOUNT_ID_LENGTH_MAX: usize = 128;

fn validate(kind: &'static str, text: &str, max: usize) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if text.len() > max {
        return Err(IdError::TooLong { kind, max });
    }
    let allowed =
        |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b':' | b'-');
    if !text.bytes().all(allowed) {
        return Err(IdError::InvalidCharacter { kind });
    }
    Ok(())
}

macro_rules! identifier {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $max:expr) => {
        $(#[$meta])*
        /// Cheap to clone: the text is shared.
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            pub const KIND: &'static str = $kind;

            /// # Errors
            /// Empty, too long, or characters outside `[A-Za-z0-9._:-]`.
            pub fn new(text: &str) -> Result<$name, IdError> {
                validate($kind, text, $max)?;
                Ok($name(Arc::from(text)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(text: &str) -> Result<$name, IdError> {
                $name::new(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                $name::new(&text).map_err(de::Error::custom)
            }
        }
    };
}

identifier!(
    /// A ledger account, e.g. `patient:P1:receivable`.
    AccountId, "account_id", ACCOUNT_ID_LENGTH_MAX
);
identifier!(
    /// A client-chosen transfer id: the idempotency key of a journal transaction.
    TransferId, "transfer_id", ACCOUNT_ID_LENGTH_MAX
);
identifier!(PatientId, "patient_id", ID_LENGTH_MAX);
identifier!(HospitalId, "hospital_id", ID_LENGTH_MAX);
identifier!(PlanId, "plan_id", ID_LENGTH_MAX);
identifier!(VisitId, "visit_id", ID_LENGTH_MAX);
identifier!(ChargeId, "charge_id", ID_LENGTH_MAX);
identifier!(PaymentId, "payment_id", ID_LENGTH_MAX);
identifier!(RefundId, "refund_id", ID_LENGTH_MAX);
identifier!(DepositId, "deposit_id", ID_LENGTH_MAX);
identifier!(ChannelId, "channel", ID_LENGTH_MAX);
identifier!(
    /// A fund remittance line's reference: the idempotency key of the remittance.
    RemittanceReference, "reference", ID_LENGTH_MAX
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_length_and_characters() {
        assert!(PatientId::new("P1").is_ok());
        assert!(PatientId::new("a.b_c:d-9").is_ok());
        assert_eq!(
            PatientId::new(""),
            Err(IdError::Empty { kind: "patient_id" })
        );
        assert_eq!(
            PatientId::new(&"x".repeat(65)),
            Err(IdError::TooLong {
                kind: "patient_id",
                max: 64
            })
        );
        assert_eq!(
            VisitId::new("v 1"),
            Err(IdError::InvalidCharacter { kind: "visit_id" })
        );
        assert!(AccountId::new(&"x".repeat(128)).is_ok());
    }
}
