//! Finance reports (finance and admin tokens): pure functions of the ledger's state and
//! journal (`treatfirst_ledger::reports`), computed off the async workers.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::NaiveDate;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use treatfirst_ledger::reports::{self, LossRates, RateSource};
use treatfirst_ledger::scheme::Scheme;
use treatfirst_ledger::Timestamp;

use super::super::{json, principal, Handled};
use crate::body;
use crate::problem::ApiError;
use crate::state::AppState;

/// The query string as `T`; a bad or missing parameter is 400 naming it.
fn query<T: DeserializeOwned>(request: &HttpRequest) -> Result<T, ApiError> {
    web::Query::<T>::from_query(request.query_string())
        .map(web::Query::into_inner)
        .map_err(|error| ApiError::bad_request(format!("in the query string: {error}")))
}

/// Runs a report on a blocking thread with the state read-locked.
async fn compute<R: Serialize + Send + 'static>(
    state: &web::Data<AppState>,
    report: impl FnOnce(&Scheme) -> R + Send + 'static,
) -> Handled {
    let computed = state
        .off_worker("the report could not be computed", move |state| {
            report(&state.scheme.read())
        })
        .await?;
    Ok(json(StatusCode::OK, &computed))
}

fn now(state: &AppState) -> Timestamp {
    state.clock.now()
}

fn check_range(from: NaiveDate, to: NaiveDate) -> Result<(), ApiError> {
    if from > to {
        return Err(ApiError::bad_request("`from` is after `to`"));
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// RFC 3339; now when omitted.
    #[param(value_type = Option<String>)]
    as_of: Option<Timestamp>,
}

#[utoipa::path(
    get,
    path = "/v1/reports/aging",
    tag = "finance",
    summary = "Aging",
    description = "Finance and admin. What patients owe on settled visits at `as_of` (payments and refunds after it undone; written-off visits left out), by days past due (current, 1-7, 8-30, 31-60, 61-90, 91+), with amount and count, in total and by hospital.",
    params(AsOfQuery),
    responses(
        (status = 200, description = "What patients owe at `as_of` by days past due.", body = treatfirst_ledger::reports::AgingReport),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
    ),
    security(("bearer_auth" = []))
)]
pub async fn aging(state: web::Data<AppState>, request: HttpRequest) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let parameters: AsOfQuery = query(&request)?;
    let as_of = parameters.as_of.unwrap_or_else(|| now(&state));
    compute(&state, move |scheme| reports::aging(scheme, as_of)).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRangeQuery {
    /// `YYYY-MM-DD` (UTC+8), inclusive.
    #[param(value_type = String)]
    from: NaiveDate,
    /// `YYYY-MM-DD` (UTC+8), inclusive.
    #[param(value_type = String)]
    to: NaiveDate,
    /// RFC 3339: defaults recorded up to then count; now when omitted.
    #[param(value_type = Option<String>)]
    as_of: Option<Timestamp>,
}

#[utoipa::path(
    get,
    path = "/v1/reports/defaults",
    tag = "finance",
    summary = "Default rates",
    description = "Finance and admin. Default rates of the credit extended to visits settled from `from` to `to`: by amount, by count, by patient, gross and net of recoveries, by hospital, and vintage curves per settlement month. `default_definition` states what is counted.",
    params(DateRangeQuery),
    responses(
        (status = 200, description = "Default rates of the visits settled in the range, by hospital, and vintage curves.", body = treatfirst_ledger::reports::DefaultReport),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
    ),
    security(("bearer_auth" = []))
)]
pub async fn defaults(state: web::Data<AppState>, request: HttpRequest) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let range: DateRangeQuery = query(&request)?;
    check_range(range.from, range.to)?;
    let as_of = range.as_of.unwrap_or_else(|| now(&state));
    compute(&state, move |scheme| {
        reports::defaults(scheme, range.from, range.to, as_of)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProvisionBody {
    /// RFC 3339; now when omitted.
    #[schema(value_type = Option<String>)]
    as_of: Option<Timestamp>,
    /// A rate per bucket (`{"current": "0.003", "1-7": "0.016", ...}`, every bucket); derived
    /// from the ledger's own history when omitted.
    #[schema(value_type = Option<Object>)]
    loss_rates: Option<LossRates>,
}

#[utoipa::path(
    post,
    path = "/v1/reports/provision",
    tag = "finance",
    summary = "Provision",
    description = "Finance and admin. Expected credit loss: each aging bucket's balance times its loss rate, rounded once per bucket half away from zero to 0.01. Without `loss_rates` the rates are derived from the ledger's history (flow to default; `method` says how).",
    request_body(content = ProvisionBody),
    responses(
        (status = 200, description = "The allowance per aging bucket.", body = treatfirst_ledger::reports::ProvisionReport),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 413, response = crate::openapi::PayloadTooLarge),
    ),
    security(("bearer_auth" = []))
)]
pub async fn provision(
    state: web::Data<AppState>,
    request: HttpRequest,
    payload: web::Payload,
) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let bytes = body::read_limited(payload, state.limits.json_bytes).await?;
    let parsed: ProvisionBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        ProvisionBody {
            as_of: None,
            loss_rates: None,
        }
    } else {
        body::parse_json(&bytes)?
    };
    let as_of = parsed.as_of.unwrap_or_else(|| now(&state));
    compute(&state, move |scheme| {
        let (rates, source) = match parsed.loss_rates {
            Some(rates) => (rates, RateSource::Given),
            None => reports::derived_loss_rates(scheme, as_of),
        };
        reports::provision(scheme, as_of, &rates, source)
    })
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OptionalRangeQuery {
    /// `YYYY-MM-DD` (UTC+8), inclusive; from the start when omitted.
    #[param(value_type = Option<String>)]
    from: Option<NaiveDate>,
    /// `YYYY-MM-DD` (UTC+8), inclusive; up to now when omitted.
    #[param(value_type = Option<String>)]
    to: Option<NaiveDate>,
}

#[utoipa::path(
    get,
    path = "/v1/reports/write-offs",
    tag = "finance",
    summary = "Write-off register",
    description = "Finance and admin. Every visit written off on a date in the range: what the write-off took, what was recovered since, what is still owed.",
    params(OptionalRangeQuery),
    responses(
        (status = 200, description = "The write-off register.", body = treatfirst_ledger::reports::WriteOffRegister),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
    ),
    security(("bearer_auth" = []))
)]
pub async fn write_offs(state: web::Data<AppState>, request: HttpRequest) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let range: OptionalRangeQuery = query(&request)?;
    if let (Some(from), Some(to)) = (range.from, range.to) {
        check_range(from, to)?;
    }
    compute(&state, move |scheme| {
        reports::write_offs(scheme, range.from, range.to)
    })
    .await
}

#[utoipa::path(
    get,
    path = "/v1/reports/allowance",
    tag = "finance",
    summary = "Allowance roll-forward",
    description = "Finance and admin. From the journal: opening + charge − released on recovery − released on refund − write-offs + recoveries to the allowance = closing, over the dates given (UTC+8, inclusive).",
    params(OptionalRangeQuery),
    responses(
        (status = 200, description = "The allowance roll-forward.", body = treatfirst_ledger::reports::AllowanceRollForward),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
pub async fn allowance(state: web::Data<AppState>, request: HttpRequest) -> Handled {
    principal(&state, &request)?.require_finance()?;
    let range: OptionalRangeQuery = query(&request)?;
    if let (Some(from), Some(to)) = (range.from, range.to) {
        check_range(from, to)?;
    }
    let from = range
        .from
        .map_or(Timestamp::EPOCH, reports::start_of_local_day);
    let to = match range.to {
        Some(to) => reports::start_of_local_day(to.succ_opt().unwrap_or(to)),
        None => now(&state).plus_seconds(1),
    };
    let computed = state
        .off_worker("the report could not be computed", move |state| {
            reports::allowance_roll_forward(state.scheme.engine().store().as_ref(), from, to)
        })
        .await?
        .map_err(|error| {
            tracing::error!(%error, "allowance roll-forward");
            ApiError::unavailable("the journal could not be read")
        })?;
    Ok(json(StatusCode::OK, &computed))
}

#[utoipa::path(
    get,
    path = "/v1/reports/headline",
    tag = "finance",
    summary = "Headline figures",
    description = "Finance and admin. Patients enrolled, credit extended, repaid, defaulted, recovered, and the default rate by amount per 100,000.",
    responses(
        (status = 200, description = "The headline figures.", body = treatfirst_ledger::reports::Headline),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
    ),
    security(("bearer_auth" = []))
)]
pub async fn headline(state: web::Data<AppState>, request: HttpRequest) -> Handled {
    principal(&state, &request)?.require_finance()?;
    compute(&state, reports::headline).await
}
