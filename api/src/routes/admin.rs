//! Administration (admin tokens): tokens, plans, hospitals, enrollment, MSA deposits.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use treatfirst_ledger::insurance::{HospitalLevel, MemberType, Plan};
use treatfirst_ledger::scheme::{Enrollment, SchemeCommand};
use treatfirst_ledger::{DepositId, HospitalId, Money, PatientId, PlanId};

use super::{accepted, json, path_id, principal, resource, Handled};
use crate::auth::Grant;
use crate::body;
use crate::problem::ApiError;
use crate::state::AppState;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(resource("/v1/tokens").route(web::post().to(issue_token)))
        .service(
            resource("/v1/plans/{plan_id}")
                .route(web::put().to(put_plan))
                .route(web::get().to(get_plan)),
        )
        .service(
            resource("/v1/hospitals/{hospital_id}")
                .route(web::put().to(put_hospital))
                .route(web::get().to(get_hospital)),
        )
        .service(resource("/v1/patients").route(web::post().to(enroll_patient)))
        .service(
            resource("/v1/patients/{patient_id}/msa-deposits").route(web::post().to(deposit_msa)),
        )
        .service(
            resource("/v1/patients/{patient_id}/credit-limit")
                .route(web::put().to(set_credit_limit)),
        )
        .service(resource("/v1/patients/{patient_id}/revoke").route(web::post().to(revoke)));
}

/// `POST /v1/tokens` response.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub grant: Grant,
}

async fn issue_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_admin()?;
    let grant: Grant = body::json(payload, state.limits.json_bytes).await?;
    {
        let scheme = state.scheme.read();
        match &grant {
            Grant::Hospital { hospital_id } if scheme.hospital(hospital_id).is_none() => {
                return Err(ApiError::unprocessable(format!(
                    "hospital {hospital_id} is not registered; PUT /v1/hospitals/{hospital_id} first"
                )));
            }
            Grant::Patient { patient_id } if scheme.patient(patient_id).is_none() => {
                return Err(ApiError::unprocessable(format!(
                    "patient {patient_id} is not enrolled"
                )));
            }
            _ => {}
        }
    }
    let token = state
        .tokens
        .issue(grant.clone(), state.clock.now())
        .map_err(|error| {
            tracing::error!(%error, "token store failure");
            ApiError::unavailable("the token could not be stored; retry later")
        })?;
    Ok(json(StatusCode::CREATED, &IssuedToken { token, grant }))
}

async fn put_plan(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_admin()?;
    let plan_id: PlanId = path_id(&path)?;
    let plan: Plan = body::json(payload, state.limits.json_bytes).await?;
    let reply = state
        .execute(SchemeCommand::PutPlan { plan_id, plan })
        .await?;
    Ok(accepted(StatusCode::OK, &reply))
}

async fn get_plan(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let plan_id: PlanId = path_id(&path)?;
    let plan = state
        .scheme
        .plan(&plan_id)
        .ok_or_else(|| ApiError::not_found(format!("plan {plan_id} does not exist")))?;
    Ok(json(StatusCode::OK, &plan))
}

#[derive(Debug, Deserialize)]
struct HospitalBody {
    name: String,
    level: HospitalLevel,
}

async fn put_hospital(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_admin()?;
    let hospital_id: HospitalId = path_id(&path)?;
    let body: HospitalBody = body::json(payload, state.limits.json_bytes).await?;
    let command = SchemeCommand::PutHospital {
        hospital_id,
        name: body.name,
        level: body.level,
    };
    let reply = state.execute(command).await?;
    Ok(accepted(StatusCode::OK, &reply))
}

async fn get_hospital(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let caller = principal(&state, &request)?;
    let hospital_id: HospitalId = path_id(&path)?;
    caller.require_visit_reader(&hospital_id)?;
    let hospital = state
        .scheme
        .read()
        .hospital(&hospital_id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("hospital {hospital_id} does not exist")))?;
    Ok(json(StatusCode::OK, &hospital))
}

/// The body of `POST /v1/patients`.
#[derive(Debug, Deserialize)]
pub struct EnrollmentBody {
    pub patient_id: PatientId,
    pub plan_id: PlanId,
    pub member_type: MemberType,
    pub birth_date: NaiveDate,
    #[serde(default)]
    pub msa_balance: Money,
    /// Omitted: the risk policy sets it.
    #[serde(default)]
    pub credit_limit: Option<Money>,
    #[serde(default)]
    pub external_score: Option<u16>,
}

async fn enroll_patient(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_admin()?;
    let body: EnrollmentBody = body::json(payload, state.limits.json_bytes).await?;
    let credit_limit = match body.credit_limit {
        Some(limit) => limit,
        // A repeated enrollment without a limit repeats the limit first given, so that
        // the retry replays instead of conflicting.
        None => match state.scheme.read().patient(&body.patient_id) {
            Some(existing) => existing.enrollment.credit_limit,
            None => state
                .risk
                .enrollment_limit(body.birth_date, state.clock.now()),
        },
    };
    let enrollment = Enrollment {
        patient_id: body.patient_id,
        plan_id: body.plan_id,
        member_type: body.member_type,
        birth_date: body.birth_date,
        msa_balance: body.msa_balance,
        credit_limit,
        external_score: body.external_score,
    };
    let reply = state
        .execute(SchemeCommand::EnrollPatient(enrollment))
        .await?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

#[derive(Debug, Deserialize)]
struct DepositBody {
    deposit_id: DepositId,
    amount: Money,
}

async fn deposit_msa(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_admin()?;
    let patient_id: PatientId = path_id(&path)?;
    let body: DepositBody = body::json(payload, state.limits.json_bytes).await?;
    let command = SchemeCommand::DepositMsa {
        patient_id,
        deposit_id: body.deposit_id,
        amount: body.amount,
    };
    let reply = state.execute(command).await?;
    Ok(accepted(StatusCode::CREATED, &reply))
}

#[derive(Debug, Deserialize)]
struct CreditLimitBody {
    credit_limit: Money,
}

/// `PUT /v1/patients/{patient_id}/credit-limit` (an addition to the contract): never below
/// what the patient already holds and owes.
async fn set_credit_limit(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_admin()?;
    let patient_id: PatientId = path_id(&path)?;
    let body: CreditLimitBody = body::json(payload, state.limits.json_bytes).await?;
    let command = SchemeCommand::SetCreditLimit {
        patient_id,
        credit_limit: body.credit_limit,
    };
    let reply = state.execute(command).await?;
    Ok(accepted(StatusCode::OK, &reply))
}

/// `POST /v1/patients/{patient_id}/revoke` (an addition): no new visits; debts stay.
async fn revoke(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_admin()?;
    let patient_id: PatientId = path_id(&path)?;
    body::empty_object(payload, state.limits.json_bytes).await?;
    let reply = state
        .execute(SchemeCommand::RevokePatient { patient_id })
        .await?;
    Ok(accepted(StatusCode::OK, &reply))
}
