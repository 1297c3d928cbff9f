//! OpenAPI schemas (utoipa) of the value types whose wire form is a string of their own
//! (custom serde): amounts, ratios, quantities, ids and instants, plus the few types whose
//! derived schema would not say what serde writes. Behind the `openapi` feature; the REST
//! service's document (`GET /openapi.json`) is built from these and the derived schemas.

use std::borrow::Cow;

use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::insurance::{HospitalLevel, Plan, PlanVersion, Quantity};
use crate::money::{Money, Ratio};
use crate::scheme::PlanStored;
use crate::time::Timestamp;
use crate::{ids, PlanId};

/// The wire form of [`Money`]: at most two decimals, no sign, no exponent.
pub const MONEY_PATTERN: &str = r"^[0-9]+(\.[0-9]{1,2})?$";
/// The wire form of [`Ratio`]: an unsigned decimal (its value between 0 and 1, at most 6
/// significant decimals: the range is checked on the value, not on the text).
pub const RATIO_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?$";
/// The wire form of [`Quantity`]: positive, at most 4 decimals.
pub const QUANTITY_PATTERN: &str = r"^[0-9]+(\.[0-9]{1,4})?$";
/// The wire form of a client-chosen id.
pub const ID_PATTERN: &str = r"^[A-Za-z0-9._:-]{1,64}$";
/// The wire form of a ledger-composed id (accounts, transfers).
pub const LONG_ID_PATTERN: &str = r"^[A-Za-z0-9._:-]{1,128}$";

fn string_schema(description: &str, pattern: &str, example: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .pattern(Some(pattern))
        .examples([example])
}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        string_schema(
            "An amount of CNY: a decimal string with at most 2 decimals, never negative.",
            MONEY_PATTERN,
            "120.50",
        )
        .into()
    }
}

impl ToSchema for Money {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Money")
    }
}

impl PartialSchema for crate::reports::Rate {
    fn schema() -> RefOr<Schema> {
        string_schema(
            "An exact rate of a report: a decimal string, rounded once half away from zero \
             (6 places for fractions, 2 for rates per 100,000).",
            RATIO_PATTERN,
            "0.012500",
        )
        .into()
    }
}

impl ToSchema for crate::reports::Rate {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Rate")
    }
}

impl PartialSchema for Ratio {
    fn schema() -> RefOr<Schema> {
        string_schema(
            "A fraction between 0 and 1 inclusive: a decimal string with at most 6 decimals.",
            RATIO_PATTERN,
            "0.85",
        )
        .into()
    }
}

impl ToSchema for Ratio {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Ratio")
    }
}

impl PartialSchema for Quantity {
    fn schema() -> RefOr<Schema> {
        string_schema(
            "A positive quantity: a decimal string with at most 4 decimals, at most 1000000.",
            QUANTITY_PATTERN,
            "2",
        )
        .into()
    }
}

impl ToSchema for Quantity {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Quantity")
    }
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("An instant: an RFC 3339 string, written in UTC."))
            .examples(["2026-12-01T00:00:00Z"])
            .into()
    }
}

impl ToSchema for Timestamp {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Timestamp")
    }
}

/// The hospital grade on the wire is the number 1, 2 or 3 (`serde(try_from = "u8")`).
impl PartialSchema for HospitalLevel {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .description(Some("The hospital grade: 1, 2 or 3."))
            .enum_values(Some(HospitalLevel::ALL.map(|level| level.number())))
            .examples([3])
            .into()
    }
}

impl ToSchema for HospitalLevel {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("HospitalLevel")
    }
}

/// The stored plan's fields sit beside `plan_id` and `version` (`serde(flatten)`). The plan
/// body refuses unknown fields, so an `allOf` of it and the two extra fields would accept
/// nothing: the schema is the plan's object with the two fields merged in.
impl PartialSchema for PlanStored {
    fn schema() -> RefOr<Schema> {
        let mut object = match <Plan as PartialSchema>::schema() {
            RefOr::T(Schema::Object(object)) => object,
            _ => unreachable!("a plan is an object with named fields"),
        };
        object.additional_properties = None;
        object.description =
            Some("A stored plan version: the plan's fields with its id and version.".into());
        let properties = std::mem::take(&mut object.properties);
        object.properties.insert(
            "plan_id".into(),
            Ref::from_schema_name(PlanId::name()).into(),
        );
        object.properties.insert(
            "version".into(),
            Ref::from_schema_name(PlanVersion::name()).into(),
        );
        object.properties.extend(properties);
        object
            .required
            .splice(0..0, ["plan_id".into(), "version".into()]);
        RefOr::T(Schema::Object(object))
    }
}

impl ToSchema for PlanStored {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PlanStored")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((PlanId::name().into(), PlanId::schema()));
        schemas.push((PlanVersion::name().into(), PlanVersion::schema()));
        <PlanVersion as ToSchema>::schemas(schemas);
        schemas.push((Plan::name().into(), Plan::schema()));
        <Plan as ToSchema>::schemas(schemas);
    }
}

macro_rules! id_schema {
    ($($name:ident => $pattern:expr, $example:literal, $description:literal;)*) => {$(
        impl PartialSchema for ids::$name {
            fn schema() -> RefOr<Schema> {
                string_schema($description, $pattern, $example).into()
            }
        }

        impl ToSchema for ids::$name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    )*};
}

id_schema! {
    AccountId => LONG_ID_PATTERN, "patient:P1:receivable", "A ledger account, composed by the ledger.";
    TransferId => LONG_ID_PATTERN, "settle-17", "A ledger transfer, composed by the ledger.";
    PatientId => ID_PATTERN, "P1", "A client-chosen patient id.";
    HospitalId => ID_PATTERN, "H1", "A client-chosen hospital id.";
    PlanId => ID_PATTERN, "employee-2026", "A client-chosen plan id.";
    VisitId => ID_PATTERN, "V1", "A visit id, chosen by its hospital.";
    ChargeId => ID_PATTERN, "C1", "A charge id, chosen by the hospital.";
    PaymentId => ID_PATTERN, "PAY1", "A payment id, chosen by the payment channel.";
    RefundId => ID_PATTERN, "R1", "A refund id, chosen by the hospital.";
    DepositId => ID_PATTERN, "D1", "An MSA deposit id, chosen by the client.";
    ChannelId => ID_PATTERN, "alipay", "The payment channel.";
    RemittanceReference => ID_PATTERN, "REM-2026-0001", "A fund remittance line's reference, chosen by the fund.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_types_are_strings_with_a_pattern_that_takes_their_examples() {
        let json = serde_json::to_value(Money::schema()).unwrap();
        assert_eq!(json["type"], "string");
        assert_eq!(json["pattern"], MONEY_PATTERN);
        assert_eq!(json["examples"][0], "120.50");
        let json = serde_json::to_value(Timestamp::schema()).unwrap();
        assert_eq!(json["format"], "date-time");
    }

    #[test]
    fn plan_stored_has_the_plan_fields_and_its_id_and_version() {
        let json = serde_json::to_value(PlanStored::schema()).unwrap();
        let required: Vec<&str> = json["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|value| value.as_str().unwrap())
            .collect();
        for field in ["plan_id", "version", "currency", "rules", "msa_scope"] {
            assert!(required.contains(&field), "{field} in {required:?}");
            assert!(json["properties"][field].is_object(), "{field}");
        }
        assert!(json.get("additionalProperties").is_none());
    }
}
