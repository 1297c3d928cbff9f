//! Bearer tokens with roles, stored hashed, and the access rules of API.md.
//!
//! A token is `tf_` followed by 64 hex digits of the operating system's randomness (256
//! bits). Only its SHA-256 is stored (a sled tree next to the journal, or the
//! `access_tokens` table of the shared PostgreSQL store, where every node sees it) and kept
//! in memory;
//! logs name a token by the first 8 hex digits of that hash, never by the token itself.
//! Token grants are not journal records: they are access control, not money, and are not
//! part of the hash chain `treatfirst verify` audits.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use actix_web::http::header;
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use treatfirst_ledger::journal::{
    PostgresStore, SledStore, SledSync, StoreError, StoredAccessToken,
};
use treatfirst_ledger::{HospitalId, PatientId, Timestamp};

use crate::problem::ApiError;

/// The sled tree holding token grants by the hash of the token.
const TOKENS_TREE: &str = "access_tokens";
/// The longest Authorization header value considered.
const AUTHORIZATION_LENGTH_MAX: usize = 256;

/// What a token may do, and for whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Grant {
    Admin,
    Hospital { hospital_id: HospitalId },
    Patient { patient_id: PatientId },
    Finance,
    Channel,
}

impl Grant {
    pub fn role(&self) -> &'static str {
        match self {
            Grant::Admin => "admin",
            Grant::Hospital { .. } => "hospital",
            Grant::Patient { .. } => "patient",
            Grant::Finance => "finance",
            Grant::Channel => "channel",
        }
    }
}

/// A grant as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredGrant {
    grant: Grant,
    created_at: Timestamp,
}

/// The caller of a request, as its token says.
#[derive(Debug, Clone)]
pub struct Principal {
    pub grant: Grant,
    /// The first 8 hex digits of the token's hash: safe to log.
    pub token_ref: String,
}

impl Principal {
    fn refuse(&self, what: &str) -> ApiError {
        ApiError::forbidden(format!("a {} token may not {what}", self.grant.role()))
    }

    /// Administration: tokens, plans, hospitals, enrollment, deposits.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.grant {
            Grant::Admin => Ok(()),
            _ => Err(self.refuse("administer the scheme")),
        }
    }

    /// Finance: delinquency, reports, reconciliation, risk.
    pub fn require_finance(&self) -> Result<(), ApiError> {
        match self.grant {
            Grant::Admin | Grant::Finance => Ok(()),
            _ => Err(self.refuse("use the finance endpoints")),
        }
    }

    /// Reading any payment, and so learning that a payment id is unknown: channels, finance
    /// and admin. A patient reads its own payments only; an unknown id is not its own, so it
    /// is refused like someone else's and the answer does not tell whether it exists.
    pub fn require_payments_reader(&self) -> Result<(), ApiError> {
        match self.grant {
            Grant::Admin | Grant::Finance | Grant::Channel => Ok(()),
            _ => Err(self.refuse("read payments other than your own")),
        }
    }

    /// Reading a patient: admin, finance, any hospital, the patient itself.
    pub fn require_patient_reader(&self, patient_id: &PatientId) -> Result<(), ApiError> {
        match &self.grant {
            Grant::Admin | Grant::Finance | Grant::Hospital { .. } => Ok(()),
            Grant::Patient { patient_id: own } if own == patient_id => Ok(()),
            _ => Err(self.refuse("read this patient")),
        }
    }

    /// Writing a visit: the hospital itself.
    pub fn require_hospital(&self, hospital_id: &HospitalId) -> Result<(), ApiError> {
        match &self.grant {
            Grant::Hospital { hospital_id: own } if own == hospital_id => Ok(()),
            _ => Err(self.refuse("act for this hospital")),
        }
    }

    /// Reading a visit: the hospital itself, finance and admin.
    pub fn require_visit_reader(&self, hospital_id: &HospitalId) -> Result<(), ApiError> {
        match &self.grant {
            Grant::Admin | Grant::Finance => Ok(()),
            Grant::Hospital { hospital_id: own } if own == hospital_id => Ok(()),
            _ => Err(self.refuse("read this hospital's visits")),
        }
    }

    /// Posting a payment: a channel, or the patient for its own id.
    pub fn require_payer(&self, patient_id: &PatientId) -> Result<(), ApiError> {
        match &self.grant {
            Grant::Channel => Ok(()),
            Grant::Patient { patient_id: own } if own == patient_id => Ok(()),
            _ => Err(self.refuse("post payments for this patient")),
        }
    }
}

/// Why the token store failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenStoreError {
    #[error("token store: {0}")]
    Sled(#[from] sled::Error),
    #[error("token store: {0}")]
    Shared(#[from] StoreError),
    #[error("token store record does not decode: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("no randomness available for a token: {0}")]
    Random(String),
}

/// Token grants by hash: durable in the store, served from memory.
pub struct TokenStore {
    backend: TokenBackend,
    by_hash: RwLock<HashMap<[u8; 32], Grant>>,
}

/// Where grants are durable.
enum TokenBackend {
    /// A tree of the embedded store's sled database.
    Sled { tree: sled::Tree, sync: SledSync },
    /// The shared store: a token issued on one node is looked up there by the others.
    Shared(Arc<PostgresStore>),
}

impl TokenStore {
    /// Loads every grant stored in the embedded store's database.
    ///
    /// # Errors
    /// sled failure or an undecodable record.
    pub fn open(store: &SledStore) -> Result<TokenStore, TokenStoreError> {
        let tree = store.database().open_tree(TOKENS_TREE)?;
        let mut stored = Vec::new();
        for item in tree.iter() {
            let (key, value) = item?;
            stored.push((key.to_vec(), value.to_vec()));
        }
        TokenStore::loaded(
            TokenBackend::Sled {
                tree,
                sync: store.sync().clone(),
            },
            stored,
        )
    }

    /// Loads every grant stored in the shared store; grants other nodes issue later are
    /// read from it when first presented here.
    ///
    /// # Errors
    /// The database failed, or a record does not decode.
    pub fn open_shared(store: Arc<PostgresStore>) -> Result<TokenStore, TokenStoreError> {
        let stored = store.access_tokens()?;
        TokenStore::loaded(TokenBackend::Shared(store), stored)
    }

    fn loaded(
        backend: TokenBackend,
        stored: Vec<StoredAccessToken>,
    ) -> Result<TokenStore, TokenStoreError> {
        let mut by_hash = HashMap::new();
        for (key, value) in stored {
            let Ok(hash) = <[u8; 32]>::try_from(key.as_slice()) else {
                continue;
            };
            let stored: StoredGrant = serde_json::from_slice(&value)?;
            by_hash.insert(hash, stored.grant);
        }
        Ok(TokenStore {
            backend,
            by_hash: RwLock::new(by_hash),
        })
    }

    /// A grant issued by another node since this one loaded (shared store only).
    fn look_up_shared(&self, digest: &[u8; 32]) -> Option<Grant> {
        let TokenBackend::Shared(store) = &self.backend else {
            return None;
        };
        let value = match store.access_token(digest) {
            Ok(value) => value?,
            Err(error) => {
                tracing::warn!(%error, "token lookup in the shared store failed");
                return None;
            }
        };
        let stored: StoredGrant = serde_json::from_slice(&value).ok()?;
        self.write().insert(*digest, stored.grant.clone());
        Some(stored.grant)
    }

    /// Whether any stored token is an admin token.
    pub fn has_admin(&self) -> bool {
        self.read().values().any(|grant| *grant == Grant::Admin)
    }

    /// Accepts `token` as an admin token for this process only (`TREATFIRST_ADMIN_TOKEN`).
    pub fn trust_admin_token(&self, token: &str) {
        self.write().insert(hash(token), Grant::Admin);
    }

    /// Issues a new token for `grant`, durable before it is returned.
    ///
    /// # Errors
    /// No randomness, or sled could not store it.
    pub fn issue(&self, grant: Grant, now: Timestamp) -> Result<String, TokenStoreError> {
        let mut secret = [0_u8; 32];
        getrandom::getrandom(&mut secret)
            .map_err(|error| TokenStoreError::Random(error.to_string()))?;
        let token = format!("tf_{}", hex::encode(secret));
        let digest = hash(&token);
        let stored = StoredGrant {
            grant: grant.clone(),
            created_at: now,
        };
        let value = serde_json::to_vec(&stored)?;
        match &self.backend {
            TokenBackend::Sled { tree, sync } => {
                tree.insert(digest, value.as_slice())?;
                sync.flush()?;
            }
            TokenBackend::Shared(store) => store.put_access_token(&digest, &value)?,
        }
        self.write().insert(digest, grant);
        Ok(token)
    }

    /// The caller of a request: 401 without a bearer token or with an unknown one.
    ///
    /// # Errors
    /// `unauthorized`.
    pub fn authenticate(&self, request: &HttpRequest) -> Result<Principal, ApiError> {
        let header = request
            .headers()
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))?;
        let value = header
            .to_str()
            .ok()
            .filter(|value| value.len() <= AUTHORIZATION_LENGTH_MAX)
            .ok_or_else(|| ApiError::unauthorized("the Authorization header is malformed"))?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization scheme must be Bearer"))?;
        let digest = hash(token);
        let known = self.read().get(&digest).cloned();
        let grant = known
            .or_else(|| self.look_up_shared(&digest))
            .ok_or_else(|| ApiError::unauthorized("the token is not known"))?;
        Ok(Principal {
            grant,
            token_ref: hex::encode(&digest[..4]),
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<[u8; 32], Grant>> {
        self.by_hash
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<[u8; 32], Grant>> {
        self.by_hash
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}
