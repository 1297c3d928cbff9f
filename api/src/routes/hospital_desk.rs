//! The hospital's desk (additions to the contract, read-only): its open visits with their
//! authorizations, and the visits it settled on a day. The hospital itself, finance and
//! admin may read them (the rule of reading a visit).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use treatfirst_ledger::insurance::VisitKind;
use treatfirst_ledger::scheme::{local_date, Scheme, SettlementView};
use treatfirst_ledger::{HospitalId, Money, PatientId, Timestamp, VisitId};

use super::{json, path_id, principal, resource, Handled};
use crate::problem::ApiError;
use crate::state::AppState;

/// The most visits one answer lists; `count` and the totals cover them all.
pub const DESK_LISTED_MAX: usize = 1_000;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .service(
            resource("/v1/hospitals/{hospital_id}/open-visits").route(web::get().to(open_visits)),
        )
        .service(
            resource("/v1/hospitals/{hospital_id}/settlements").route(web::get().to(settlements)),
        );
}

/// An open visit as the desk lists it (its charge lines stay on the visit).
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct OpenVisit {
    visit_id: VisitId,
    patient_id: PatientId,
    kind: VisitKind,
    opened_at: Timestamp,
    estimated_amount: Money,
    /// What the check-in authorized.
    authorized_amount: Money,
    /// What the visit's hold reserves on the patient's credit line now.
    credit_held: Money,
    /// Charged so far.
    total: Money,
    charges: u64,
}

/// `GET /v1/hospitals/{hospital_id}/open-visits`: oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct OpenVisits {
    hospital_id: HospitalId,
    as_of: Timestamp,
    count: u64,
    authorized_total: Money,
    credit_held_total: Money,
    /// At most 1,000, oldest first; `truncated` when there are more.
    visits: Vec<OpenVisit>,
    truncated: bool,
}

/// The sums of a day's settlements.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
struct SettlementTotals {
    total: Money,
    fund_paid: Money,
    msa_paid: Money,
    financed: Money,
    collect_now: Money,
}

/// `GET /v1/hospitals/{hospital_id}/settlements?date=`: in the order they were settled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
struct DaySettlements {
    hospital_id: HospitalId,
    /// `YYYY-MM-DD` in UTC+8 (the scheme's day).
    date: NaiveDate,
    count: u64,
    totals: SettlementTotals,
    /// At most 1,000, in settlement order (after refunds); `truncated` when there are more.
    settlements: Vec<SettlementView>,
    truncated: bool,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct DateQuery {
    /// `YYYY-MM-DD` (UTC+8); today when omitted.
    #[param(value_type = Option<String>)]
    date: Option<NaiveDate>,
}

/// The hospital of a desk path, the caller allowed to read its visits, and known.
fn readable_hospital(
    state: &AppState,
    request: &HttpRequest,
    path: &str,
) -> Result<HospitalId, ApiError> {
    let caller = principal(state, request)?;
    let hospital_id: HospitalId = path_id(path)?;
    caller.require_visit_reader(&hospital_id)?;
    if state.scheme.read().hospital(&hospital_id).is_none() {
        return Err(ApiError::not_found(format!(
            "hospital {hospital_id} does not exist"
        )));
    }
    Ok(hospital_id)
}

fn sum(left: Money, right: Money) -> Result<Money, ApiError> {
    left.checked_add(right)
        .ok_or_else(|| ApiError::unprocessable("the totals exceed the largest amount"))
}

#[utoipa::path(
    get,
    path = "/v1/hospitals/{hospital_id}/open-visits",
    tag = "visits",
    summary = "A hospital's open visits",
    description = "The hospital itself, finance and admin (an addition to the contract). Visits checked in and not yet settled or cancelled, oldest first, with what was authorized and what their holds reserve now.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital.")),
    responses(
        (status = 200, description = "The open visits.", body = OpenVisits),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such hospital.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn open_visits(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let hospital_id = readable_hospital(&state, &request, &path)?;
    let as_of = state.clock.now();
    let answer = state
        .off_worker("the visits could not be listed", move |state| {
            list_open(&state.scheme.read(), hospital_id, as_of)
        })
        .await??;
    Ok(json(StatusCode::OK, &answer))
}

fn list_open(
    scheme: &Scheme,
    hospital_id: HospitalId,
    as_of: Timestamp,
) -> Result<OpenVisits, ApiError> {
    let mut visits: Vec<OpenVisit> = scheme
        .open_visits_of(&hospital_id)
        .map(|visit| OpenVisit {
            visit_id: visit.key.visit_id.clone(),
            patient_id: visit.request.patient_id.clone(),
            kind: visit.request.kind,
            opened_at: visit.timeline.opened_at,
            estimated_amount: visit.request.estimated_amount,
            authorized_amount: visit.authorized_amount,
            credit_held: visit.hold.as_ref().map_or(Money::ZERO, |hold| hold.amount),
            total: visit.total,
            charges: visit.charges.len() as u64,
        })
        .collect();
    visits.sort_by(|left, right| {
        (left.opened_at, &left.visit_id).cmp(&(right.opened_at, &right.visit_id))
    });
    let mut authorized_total = Money::ZERO;
    let mut credit_held_total = Money::ZERO;
    for visit in &visits {
        authorized_total = sum(authorized_total, visit.authorized_amount)?;
        credit_held_total = sum(credit_held_total, visit.credit_held)?;
    }
    let count = visits.len() as u64;
    let truncated = visits.len() > DESK_LISTED_MAX;
    visits.truncate(DESK_LISTED_MAX);
    Ok(OpenVisits {
        hospital_id,
        as_of,
        count,
        authorized_total,
        credit_held_total,
        visits,
        truncated,
    })
}

#[utoipa::path(
    get,
    path = "/v1/hospitals/{hospital_id}/settlements",
    tag = "visits",
    summary = "A hospital's settlements of a day",
    description = "The hospital itself, finance and admin (an addition to the contract). The visits settled on `date` (UTC+8; today when omitted), in settlement order, each with its settlement as it stands (after refunds), and their totals: what the fund, the personal medical accounts and the credit lines paid and what was collected at the counter.",
    params(("hospital_id" = HospitalId, Path, description = "The hospital."), DateQuery),
    responses(
        (status = 200, description = "The day's settlements.", body = DaySettlements),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthorized),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 404, description = "`not_found`: no such hospital.", body = crate::openapi::Problem, content_type = "application/problem+json"),
        (status = 503, response = crate::openapi::Unavailable),
    ),
    security(("bearer_auth" = []))
)]
async fn settlements(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Handled {
    let hospital_id = readable_hospital(&state, &request, &path)?;
    let query = web::Query::<DateQuery>::from_query(request.query_string())
        .map_err(|error| ApiError::bad_request(format!("in the query string: {error}")))?;
    let date = query.date.unwrap_or_else(|| local_date(state.clock.now()));
    let answer = state
        .off_worker("the settlements could not be listed", move |state| {
            list_settled(&state.scheme.read(), hospital_id, date)
        })
        .await??;
    Ok(json(StatusCode::OK, &answer))
}

fn list_settled(
    scheme: &Scheme,
    hospital_id: HospitalId,
    date: NaiveDate,
) -> Result<DaySettlements, ApiError> {
    // In settlement order already.
    let mut settled: Vec<SettlementView> = scheme
        .visits_settled_on(&hospital_id, date)
        .filter_map(|visit| scheme.visit_view(&visit.key)?.settlement)
        .collect();
    let mut totals = SettlementTotals::default();
    for view in &settled {
        let figures = &view.figures;
        totals = SettlementTotals {
            total: sum(totals.total, figures.total)?,
            fund_paid: sum(totals.fund_paid, figures.fund_paid)?,
            msa_paid: sum(totals.msa_paid, figures.msa_paid)?,
            financed: sum(totals.financed, figures.financed)?,
            collect_now: sum(totals.collect_now, figures.collect_now)?,
        };
    }
    let count = settled.len() as u64;
    let truncated = settled.len() > DESK_LISTED_MAX;
    settled.truncate(DESK_LISTED_MAX);
    Ok(DaySettlements {
        hospital_id,
        date,
        count,
        totals,
        settlements: settled,
        truncated,
    })
}
