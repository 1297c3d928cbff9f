//! Administration (admin tokens): tokens, plans, hospitals, enrollment, MSA deposits.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use treatfirst_ledger::insurance::{HospitalLevel, MemberType, Plan};
use treatfirst_ledger::scheme::{Enrollment, SchemeCommand};
use treatfirst_ledger::scheme::{Hospital, MsaDeposited, PatientView, PlanStored, PlanView};
use treatfirst_ledger::{DepositId, HospitalId, Money, PatientId, PlanId};

use super::{accepted, json, path_id, principal, resource, Handled};
use crate::auth::Grant;
use crate::body;
use crate::openapi::ActionBody;
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub grant: Grant,
}

#[utoipa::path(
    post,
    path = "/v1/tokens",
    tag = "admin",
    summary = "Issue a token",
    description = "Admin. Issues a bearer token for a role; `hospital` and `patient` tokens are bound to a registered hospital or an enrolled patient. The token is shown once.",
    request_body(content = Grant, description = "The role, and for `hospital` and `patient` the id it is bound to."),
    responses(
        (status = 201, description = "The new token and its grant.", body = IssuedToken),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 422, description = "`invalid_request`: the hospital is not registered or the patient is not enrolled.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
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

#[utoipa::path(
    put,
    path = "/v1/plans/{plan_id}",
    tag = "admin",
    summary = "Store a plan",
    description = "Admin. Stores an insurance plan; a new version when its content changed. Later settlements use the current version.",
    params(("plan_id" = PlanId, Path, description = "The plan.")),
    request_body(content = Plan, description = "The plan."),
    responses(
        (status = 200, description = "The stored plan with its id and version.", body = PlanStored, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 422, description = "`invalid_request`: the plan is not valid (currency, windows, ratios, bands, duplicate rules).", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
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

#[utoipa::path(
    get,
    path = "/v1/plans/{plan_id}",
    tag = "admin",
    summary = "Read a plan",
    description = "Finance and admin. The plan's current version.",
    params(("plan_id" = PlanId, Path, description = "The plan.")),
    responses(
        (status = 200, description = "The current version of the plan.", body = PlanView),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such plan.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct HospitalBody {
    name: String,
    level: HospitalLevel,
}

#[utoipa::path(
    put,
    path = "/v1/hospitals/{hospital_id}",
    tag = "admin",
    summary = "Register a hospital",
    description = "Admin. Registers a hospital or changes its name and level (later settlements use them).",
    params(("hospital_id" = HospitalId, Path, description = "The hospital.")),
    request_body(content = HospitalBody),
    responses(
        (status = 200, description = "The hospital as stored.", body = Hospital, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 422, description = "`invalid_request`: the name is empty or too long.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
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

#[utoipa::path(
    get,
    path = "/v1/hospitals/{hospital_id}",
    tag = "admin",
    summary = "Read a hospital",
    description = "Admin, finance, and the hospital itself.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital.")),
    responses(
        (status = 200, description = "The hospital.", body = Hospital),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such hospital.", body = crate::openapi::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer_auth" = []))
)]
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
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

#[utoipa::path(
    post,
    path = "/v1/patients",
    tag = "admin",
    summary = "Enroll a patient",
    description = "Admin. Enrolls a patient in a plan with a credit line; without `credit_limit` the risk policy sets it.",
    request_body(content = EnrollmentBody),
    responses(
        (status = 201, description = "The patient view.", body = PatientView, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such plan.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency_conflict`: the patient is enrolled with a different body.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: an amount or score out of range, a birth date in the future.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
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
            None => state.risk.enrollment_limit(body.external_score),
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct DepositBody {
    deposit_id: DepositId,
    amount: Money,
}

#[utoipa::path(
    post,
    path = "/v1/patients/{patient_id}/msa-deposits",
    tag = "admin",
    summary = "Deposit into the MSA",
    description = "Admin. Adds to the patient's personal medical account.",
    params(("patient_id" = PatientId, Path, description = "The patient.")),
    request_body(content = DepositBody),
    responses(
        (status = 201, description = "The deposit and the new MSA balance.", body = MsaDeposited, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such patient.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`idempotency_conflict`: the deposit id was used with a different body.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: a zero amount or one above the maximum.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct CreditLimitBody {
    credit_limit: Money,
}

/// `PUT /v1/patients/{patient_id}/credit-limit` (an addition to the contract): never below
/// what the patient already holds and owes.
#[utoipa::path(
    put,
    path = "/v1/patients/{patient_id}/credit-limit",
    tag = "admin",
    summary = "Change a credit limit",
    description = "Admin (an addition to the contract). Never below what the patient already holds and owes.",
    params(("patient_id" = PatientId, Path, description = "The patient.")),
    request_body(content = CreditLimitBody),
    responses(
        (status = 200, description = "The patient view.", body = PatientView, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such patient.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state`: the limit is below what the patient holds and owes.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_request`: an amount above the maximum.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
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
#[utoipa::path(
    post,
    path = "/v1/patients/{patient_id}/revoke",
    tag = "admin",
    summary = "Revoke a patient",
    description = "Admin (an addition). No new visits; what is owed stays owed. The body is empty or `{}`.",
    params(("patient_id" = PatientId, Path, description = "The patient.")),
    request_body(content = Option<ActionBody>, description = "Empty, or `{}`."),
    responses(
        (status = 200, description = "The patient view.", body = PatientView, headers(("idempotent-replayed" = bool, description = "`true` when the request repeated an earlier one (same id, same body); absent otherwise."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such patient.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 413, response = crate::openapi::PayloadTooLarge),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
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
