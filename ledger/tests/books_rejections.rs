//! The closed set of rejections and their documented order (see [`Rejection`]).
//!
//! Each case builds small books, runs one request at a given time and checks the exact
//! outcome. A refused request must change nothing (balances, stored transfers, holds and
//! their deadlines) and leave its id free: a valid request with that id is accepted after.

use treatfirst_ledger::books::StoredTransfer;
use treatfirst_ledger::transfers::{HOLD_TIMEOUT_SECONDS_MAX, LEGS_PER_TRANSFER_MAX};
use treatfirst_ledger::{
    Account, AccountId, AccountLimit, AccountRejection, AccountSpec, Books, LedgerChange, Leg,
    Money, Rejection, Timestamp, TransferAction, TransferId, TransferRequest, TransferStatus,
};

// ---------------------------------------------------------------------------------------
// Fixture: four accounts, two of them bounded.
// ---------------------------------------------------------------------------------------

const T0: Timestamp = Timestamp::from_seconds(1_800_000_000);

/// The patient's credit line: debits may exceed credits by this much, holds included.
const PATIENT_CREDIT_LINE: Money = Money::yuan(1_000);
/// The deposit account: credits may exceed debits by this much, holds included.
const DEPOSIT_CEILING: Money = Money::yuan(500);
/// Every id the cases use: the snapshot compares all of them.
const KNOWN_IDS: [&str; 14] = [
    "T1", "T2", "T3", "H1", "H2", "H3", "P1", "P2", "V1", "V2", "R1", "R2", "X", "Y",
];
/// Two accounts only the "id stays free" probe touches, so it cannot be refused.
const PROBE_DEBIT: &str = "probe:debit";
const PROBE_CREDIT: &str = "probe:credit";
/// A hold's timeout in the cases, in seconds.
const HOLD_SECONDS: u32 = 60;
/// When a hold made at [`T0`] times out, in seconds after [`T0`].
const DEADLINE: i64 = HOLD_SECONDS as i64;

fn at(seconds: i64) -> Timestamp {
    T0.plus_seconds(seconds)
}

fn account(name: &str) -> AccountId {
    AccountId::new(name).unwrap()
}

fn transfer_id(name: &str) -> TransferId {
    TransferId::new(name).unwrap()
}

fn yuan(amount: u64) -> Money {
    Money::yuan(amount)
}

fn fen(amount: u64) -> Money {
    Money::from_fen(amount).unwrap()
}

fn leg(debit: &str, credit: &str, amount: Money) -> Leg {
    Leg::new(&account(debit), &account(credit), amount)
}

fn post(id: &str, legs: Vec<Leg>) -> TransferRequest {
    TransferRequest::post(transfer_id(id), legs)
}

fn hold(id: &str, legs: Vec<Leg>, timeout_seconds: u32) -> TransferRequest {
    TransferRequest::hold(transfer_id(id), legs, timeout_seconds)
}

fn post_pending(id: &str, pending: &str, amounts: Option<Vec<Money>>) -> TransferRequest {
    TransferRequest {
        id: transfer_id(id),
        action: TransferAction::PostPending {
            pending_id: transfer_id(pending),
            amounts,
        },
    }
}

fn void(id: &str, pending: &str) -> TransferRequest {
    TransferRequest {
        id: transfer_id(id),
        action: TransferAction::VoidPending {
            pending_id: transfer_id(pending),
        },
    }
}

fn reverse(id: &str, original: &str) -> TransferRequest {
    TransferRequest {
        id: transfer_id(id),
        action: TransferAction::Reverse {
            original_id: transfer_id(original),
        },
    }
}

/// cash, hospital and the probe accounts unbounded; the patient on a credit line; the
/// deposit under a ceiling.
fn fixture() -> Books {
    let mut books = Books::new();
    let specs = [
        ("cash", AccountLimit::Unbounded),
        ("hospital", AccountLimit::Unbounded),
        (PROBE_DEBIT, AccountLimit::Unbounded),
        (PROBE_CREDIT, AccountLimit::Unbounded),
        (
            "patient",
            AccountLimit::DebitsWithinCredits {
                limit: PATIENT_CREDIT_LINE,
            },
        ),
        (
            "deposit",
            AccountLimit::CreditsWithinDebits {
                limit: DEPOSIT_CEILING,
            },
        ),
    ];
    for (name, limit) in specs {
        let spec = AccountSpec {
            id: account(name),
            limit,
        };
        assert!(books.open_account(spec).unwrap().is_some());
    }
    books
}

/// Runs a setup request that must be accepted.
fn accept(books: &mut Books, request: TransferRequest, seconds: i64) {
    let description = format!("{request:?}");
    let (outcome, change) = books
        .transfer(request, at(seconds))
        .unwrap_or_else(|rejection| panic!("setup {description} rejected: {rejection}"));
    assert!(!outcome.replayed, "setup {description} replayed");
    assert!(change.is_some());
}

fn lower_limit(books: &mut Books, name: &str, limit: AccountLimit) {
    assert!(books.set_limit(&account(name), limit).unwrap().is_some());
}

fn balances_of(books: &Books, name: &str) -> treatfirst_ledger::Balances {
    books.account(&account(name)).unwrap().balances
}

/// Everything a refused request must leave as it was.
#[derive(Debug, PartialEq)]
struct Snapshot {
    accounts: Vec<Account>,
    transfers: Vec<(&'static str, Option<StoredTransfer>)>,
    transfer_count: usize,
    pending_count: usize,
}

fn snapshot(books: &Books) -> Snapshot {
    let mut accounts: Vec<Account> = books.accounts().cloned().collect();
    accounts.sort_by(|a, b| a.id.cmp(&b.id));
    let transfers = KNOWN_IDS
        .iter()
        .map(|&id| (id, books.stored_transfer(&transfer_id(id)).cloned()))
        .collect();
    Snapshot {
        accounts,
        transfers,
        transfer_count: books.transfer_count(),
        pending_count: books.pending_count(),
    }
}

// ---------------------------------------------------------------------------------------
// The table.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Expected {
    Accepted,
    Replayed,
    Rejected(Rejection),
}

struct Case {
    name: &'static str,
    setup: fn(&mut Books),
    request: TransferRequest,
    /// When the request runs, in seconds after [`T0`].
    seconds: i64,
    expected: Expected,
}

fn case(
    name: &'static str,
    setup: fn(&mut Books),
    request: TransferRequest,
    seconds: i64,
    expected: Expected,
) -> Case {
    Case {
        name,
        setup,
        request,
        seconds,
        expected,
    }
}

fn rejected(rejection: Rejection) -> Expected {
    Expected::Rejected(rejection)
}

/// Runs one case: the exact outcome; nothing changed on refusal or replay; a refused id
/// stays free.
fn check(case: &Case) {
    let name = case.name;
    let mut books = fixture();
    (case.setup)(&mut books);
    let before = snapshot(&books);
    let now = at(case.seconds);
    let result = books.transfer(case.request.clone(), now);
    match (&case.expected, result) {
        (Expected::Accepted, Ok((outcome, Some(change)))) => {
            assert!(!outcome.replayed, "{name}: accepted, not replayed");
            assert_eq!(outcome.created_at, now, "{name}");
            let LedgerChange::Transfers(effects) = change else {
                panic!("{name}: a transfer journals a Transfers change");
            };
            assert_eq!(effects.len(), 1, "{name}");
            assert_eq!(effects[0].request, case.request, "{name}");
            assert!(
                books.stored_transfer(&case.request.id).is_some(),
                "{name}: recorded"
            );
        }
        (Expected::Replayed, Ok((outcome, None))) => {
            assert!(outcome.replayed, "{name}: a replay says so");
            let original = before
                .transfers
                .iter()
                .find(|(id, _)| *id == case.request.id.as_str())
                .and_then(|(_, stored)| stored.clone())
                .expect("a replay has an original");
            assert_eq!(outcome.created_at, original.created_at, "{name}");
            assert_eq!(snapshot(&books), before, "{name}: a replay writes nothing");
        }
        (Expected::Rejected(expected), Err(rejection)) => {
            assert_eq!(&rejection, expected, "{name}");
            assert_eq!(
                snapshot(&books),
                before,
                "{name}: a rejection changes nothing"
            );
            let id_was_free = books.stored_transfer(&case.request.id).is_none();
            if id_was_free {
                let valid = TransferRequest::post(
                    case.request.id.clone(),
                    vec![leg(PROBE_DEBIT, PROBE_CREDIT, yuan(1))],
                );
                let (outcome, change) = books
                    .transfer(valid, now)
                    .unwrap_or_else(|rejection| panic!("{name}: id not free: {rejection}"));
                assert!(
                    !outcome.replayed && change.is_some(),
                    "{name}: id stays free"
                );
            }
        }
        (expected, result) => panic!("{name}: expected {expected:?}, got {result:?}"),
    }
}

fn check_all(cases: &[Case]) {
    for case in cases {
        check(case);
    }
}

// ---------------------------------------------------------------------------------------
// Setups.
// ---------------------------------------------------------------------------------------

fn nothing(_: &mut Books) {}

/// T1: cash -> hospital 100.
fn posted_t1(books: &mut Books) {
    accept(
        books,
        post("T1", vec![leg("cash", "hospital", yuan(100))]),
        0,
    );
}

/// H1: a two-leg hold on the patient's credit line, 300 + 200, timing out after 60 s.
fn held_h1(books: &mut Books) {
    let legs = vec![
        leg("patient", "hospital", yuan(300)),
        leg("patient", "cash", yuan(200)),
    ];
    accept(books, hold("H1", legs, HOLD_SECONDS), 0);
}

// ---------------------------------------------------------------------------------------
// 1. Shape.
// ---------------------------------------------------------------------------------------

fn many_legs(count: usize) -> Vec<Leg> {
    (0..count)
        .map(|_| leg("cash", "hospital", yuan(1)))
        .collect()
}

#[test]
fn shape_rejections_come_first_in_their_order() {
    use Rejection as R;
    let one = || vec![leg("cash", "hospital", yuan(1))];
    check_all(&[
        case(
            "empty legs",
            nothing,
            post("X", vec![]),
            0,
            rejected(R::LegsMustNotBeEmpty),
        ),
        case(
            "empty legs of a hold before its zero timeout",
            nothing,
            hold("X", vec![], 0),
            0,
            rejected(R::LegsMustNotBeEmpty),
        ),
        case(
            "one leg too many",
            nothing,
            post("X", many_legs(LEGS_PER_TRANSFER_MAX + 1)),
            0,
            rejected(R::LegsExceedMaximum),
        ),
        case(
            "the most legs",
            nothing,
            post("X", many_legs(LEGS_PER_TRANSFER_MAX)),
            0,
            Expected::Accepted,
        ),
        case(
            "too many legs before a zero amount",
            nothing,
            post("X", {
                let mut legs = many_legs(LEGS_PER_TRANSFER_MAX + 1);
                legs[0].amount = Money::ZERO;
                legs
            }),
            0,
            rejected(R::LegsExceedMaximum),
        ),
        case(
            "zero amount",
            nothing,
            post("X", vec![leg("cash", "hospital", Money::ZERO)]),
            0,
            rejected(R::AmountMustNotBeZero),
        ),
        case(
            "zero amount on a later leg",
            nothing,
            post(
                "X",
                vec![
                    leg("cash", "hospital", yuan(1)),
                    leg("cash", "hospital", Money::ZERO),
                ],
            ),
            0,
            rejected(R::AmountMustNotBeZero),
        ),
        case(
            "zero amount before same accounts",
            nothing,
            post(
                "X",
                vec![
                    leg("cash", "cash", yuan(1)),
                    leg("cash", "hospital", Money::ZERO),
                ],
            ),
            0,
            rejected(R::AmountMustNotBeZero),
        ),
        case(
            "same accounts",
            nothing,
            post("X", vec![leg("hospital", "hospital", yuan(1))]),
            0,
            rejected(R::AccountsMustBeDifferent),
        ),
        case(
            "same accounts before an unknown account",
            nothing,
            post("X", vec![leg("ghost", "ghost", yuan(1))]),
            0,
            rejected(R::AccountsMustBeDifferent),
        ),
        case(
            "zero timeout",
            nothing,
            hold("X", one(), 0),
            0,
            rejected(R::TimeoutMustBePositive),
        ),
        case(
            "timeout one second too long",
            nothing,
            hold("X", one(), HOLD_TIMEOUT_SECONDS_MAX + 1),
            0,
            rejected(R::TimeoutExceedsMaximum),
        ),
        case(
            "the longest timeout",
            nothing,
            hold("X", one(), HOLD_TIMEOUT_SECONDS_MAX),
            0,
            Expected::Accepted,
        ),
        case(
            "zero timeout before an unknown account",
            nothing,
            hold("X", vec![leg("ghost", "cash", yuan(1))], 0),
            0,
            rejected(R::TimeoutMustBePositive),
        ),
        case(
            "more post amounts than a transfer has legs",
            held_h1,
            post_pending("X", "H1", Some(vec![yuan(1); LEGS_PER_TRANSFER_MAX + 1])),
            0,
            rejected(R::PostAmountsCountMismatch),
        ),
        case(
            "shape before idempotency",
            |books| accept(books, post("X", vec![leg("cash", "hospital", yuan(1))]), 0),
            post("X", vec![leg("cash", "hospital", Money::ZERO)]),
            0,
            rejected(R::AmountMustNotBeZero),
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// 2. Idempotency.
// ---------------------------------------------------------------------------------------

/// X: cash -> hospital 100.
fn posted_x(books: &mut Books) {
    accept(
        books,
        post("X", vec![leg("cash", "hospital", yuan(100))]),
        0,
    );
}

/// X: a hold of cash -> hospital 100 for 60 s.
fn held_x(books: &mut Books) {
    let legs = vec![leg("cash", "hospital", yuan(100))];
    accept(books, hold("X", legs, HOLD_SECONDS), 0);
}

/// H1 and H2 held; X posts H1 in full.
fn x_posts_h1(books: &mut Books) {
    held_h1(books);
    accept(
        books,
        hold("H2", vec![leg("cash", "hospital", yuan(5))], HOLD_SECONDS),
        0,
    );
    accept(books, post_pending("X", "H1", None), 0);
}

#[test]
fn the_same_id_with_other_content_is_a_precise_conflict() {
    use Rejection as R;
    let legs_100 = || vec![leg("cash", "hospital", yuan(100))];
    check_all(&[
        case(
            "a post, then a hold",
            posted_x,
            hold("X", legs_100(), HOLD_SECONDS),
            0,
            rejected(R::ExistsWithDifferentAction),
        ),
        case(
            "other accounts",
            posted_x,
            post("X", vec![leg("hospital", "cash", yuan(100))]),
            0,
            rejected(R::ExistsWithDifferentLegs),
        ),
        case(
            "another leg",
            posted_x,
            post(
                "X",
                vec![
                    leg("cash", "hospital", yuan(100)),
                    leg("cash", "hospital", yuan(100)),
                ],
            ),
            0,
            rejected(R::ExistsWithDifferentLegs),
        ),
        case(
            "another amount",
            posted_x,
            post("X", vec![leg("cash", "hospital", fen(10_001))]),
            0,
            rejected(R::ExistsWithDifferentAmount),
        ),
        case(
            "another timeout",
            held_x,
            hold("X", legs_100(), HOLD_SECONDS + 1),
            0,
            rejected(R::ExistsWithDifferentTimeout),
        ),
        case(
            "another amount before another timeout",
            held_x,
            hold(
                "X",
                vec![leg("cash", "hospital", yuan(99))],
                HOLD_SECONDS + 1,
            ),
            0,
            rejected(R::ExistsWithDifferentAmount),
        ),
        case(
            "a post of another hold",
            x_posts_h1,
            post_pending("X", "H2", None),
            0,
            rejected(R::ExistsWithDifferentPendingId),
        ),
        case(
            "a post of the same hold with amounts",
            x_posts_h1,
            post_pending("X", "H1", Some(vec![yuan(300), yuan(200)])),
            0,
            rejected(R::ExistsWithDifferentAmount),
        ),
        case(
            "a void of another hold",
            x_posts_h1_voided,
            void("X", "H2"),
            0,
            rejected(R::ExistsWithDifferentPendingId),
        ),
        case(
            "a void, then a post of the same hold",
            x_posts_h1_voided,
            post_pending("X", "H1", None),
            0,
            rejected(R::ExistsWithDifferentAction),
        ),
        case(
            "a reversal of another transfer",
            |books| {
                posted_t1(books);
                accept(books, post("T2", vec![leg("cash", "hospital", yuan(1))]), 0);
                accept(books, reverse("X", "T1"), 0);
            },
            reverse("X", "T2"),
            0,
            rejected(R::ExistsWithDifferentOriginalId),
        ),
        case(
            "idempotency before references",
            posted_x,
            post("X", vec![leg("ghost", "hospital", yuan(100))]),
            0,
            rejected(R::ExistsWithDifferentLegs),
        ),
    ]);
}

/// H1 and H2 held; X voids H1.
fn x_posts_h1_voided(books: &mut Books) {
    held_h1(books);
    accept(
        books,
        hold("H2", vec![leg("cash", "hospital", yuan(5))], HOLD_SECONDS),
        0,
    );
    accept(books, void("X", "H1"), 0);
}

#[test]
fn an_identical_request_replays_the_original_and_writes_nothing() {
    check_all(&[
        case(
            "a post",
            posted_x,
            post("X", vec![leg("cash", "hospital", yuan(100))]),
            30,
            Expected::Replayed,
        ),
        case(
            "a hold, after it was posted",
            |books| {
                held_x(books);
                accept(books, post_pending("P1", "X", None), 0);
            },
            hold("X", vec![leg("cash", "hospital", yuan(100))], HOLD_SECONDS),
            10,
            Expected::Replayed,
        ),
        case(
            "a hold, after it expired",
            |books| {
                held_x(books);
                assert_eq!(books.expire_due(at(DEADLINE)).len(), 1);
            },
            hold("X", vec![leg("cash", "hospital", yuan(100))], HOLD_SECONDS),
            100,
            Expected::Replayed,
        ),
        case(
            "a post that would now exceed the credit line",
            |books| {
                let legs = vec![leg("patient", "hospital", PATIENT_CREDIT_LINE)];
                accept(books, post("X", legs), 0);
            },
            post("X", vec![leg("patient", "hospital", PATIENT_CREDIT_LINE)]),
            0,
            Expected::Replayed,
        ),
        case(
            "a post of a hold, which would now be already posted",
            x_posts_h1,
            post_pending("X", "H1", None),
            5,
            Expected::Replayed,
        ),
        case(
            "a void, which would now be already voided",
            x_posts_h1_voided,
            void("X", "H1"),
            5,
            Expected::Replayed,
        ),
        case(
            "a reversal, which would now be already reversed",
            |books| {
                posted_t1(books);
                accept(books, reverse("X", "T1"), 0);
            },
            reverse("X", "T1"),
            5,
            Expected::Replayed,
        ),
    ]);
}

// ---------------------------------------------------------------------------------------
// 3. References: pending transfers.
// ---------------------------------------------------------------------------------------

/// H1 held, then posted in full by P1.
fn h1_posted(books: &mut Books) {
    held_h1(books);
    accept(books, post_pending("P1", "H1", None), 0);
}

/// H1 held, then voided by V1.
fn h1_voided(books: &mut Books) {
    held_h1(books);
    accept(books, void("V1", "H1"), 0);
}

/// H1 held and released by `expire_due` at its deadline.
fn h1_expired(books: &mut Books) {
    held_h1(books);
    let changes = books.expire_due(at(DEADLINE));
    assert_eq!(changes.len(), 1);
}

#[test]
fn a_post_or_void_needs_a_live_hold() {
    use Rejection as R;
    check_all(&[
        case(
            "post of an unknown hold",
            nothing,
            post_pending("X", "H1", None),
            0,
            rejected(R::PendingTransferNotFound),
        ),
        case(
            "void of an unknown hold",
            nothing,
            void("X", "H1"),
            0,
            rejected(R::PendingTransferNotFound),
        ),
        case(
            "post of a posting",
            posted_t1,
            post_pending("X", "T1", None),
            0,
            rejected(R::PendingTransferNotPending),
        ),
        case(
            "void of a reversal",
            |books| {
                posted_t1(books);
                accept(books, reverse("R1", "T1"), 0);
            },
            void("X", "R1"),
            0,
            rejected(R::PendingTransferNotPending),
        ),
        case(
            "void of a reversed posting",
            |books| {
                posted_t1(books);
                accept(books, reverse("R1", "T1"), 0);
            },
            void("X", "T1"),
            0,
            rejected(R::PendingTransferNotPending),
        ),
        case(
            "post of a post of a hold",
            h1_posted,
            post_pending("X", "P1", None),
            0,
            rejected(R::PendingTransferNotPending),
        ),
        case(
            "post of a posted hold",
            h1_posted,
            post_pending("X", "H1", None),
            0,
            rejected(R::PendingTransferAlreadyPosted),
        ),
        case(
            "void of a posted hold",
            h1_posted,
            void("X", "H1"),
            0,
            rejected(R::PendingTransferAlreadyPosted),
        ),
        case(
            "post of a voided hold",
            h1_voided,
            post_pending("X", "H1", None),
            0,
            rejected(R::PendingTransferAlreadyVoided),
        ),
        case(
            "void of a voided hold",
            h1_voided,
            void("X", "H1"),
            0,
            rejected(R::PendingTransferAlreadyVoided),
        ),
        case(
            "post a second before the deadline",
            held_h1,
            post_pending("X", "H1", None),
            DEADLINE - 1,
            Expected::Accepted,
        ),
        case(
            "post at the deadline, before expire_due ran",
            held_h1,
            post_pending("X", "H1", None),
            DEADLINE,
            rejected(R::PendingTransferExpired),
        ),
        case(
            "void at the deadline, before expire_due ran",
            held_h1,
            void("X", "H1"),
            DEADLINE,
            rejected(R::PendingTransferExpired),
        ),
        case(
            "post after expire_due ran",
            h1_expired,
            post_pending("X", "H1", None),
            DEADLINE + 1,
            rejected(R::PendingTransferExpired),
        ),
        case(
            "void after expire_due ran",
            h1_expired,
            void("X", "H1"),
            DEADLINE + 1,
            rejected(R::PendingTransferExpired),
        ),
        case(
            "the hold's state before the post amounts",
            h1_posted,
            post_pending("X", "H1", Some(vec![yuan(999), yuan(999)])),
            0,
            rejected(R::PendingTransferAlreadyPosted),
        ),
        case(
            "expiry before the post amounts",
            held_h1,
            post_pending("X", "H1", Some(vec![yuan(999), yuan(999)])),
            DEADLINE,
            rejected(R::PendingTransferExpired),
        ),
    ]);
}

#[test]
fn a_partial_post_books_its_amounts_and_releases_the_rest() {
    use Rejection as R;
    check_all(&[
        case(
            "fewer amounts than legs",
            held_h1,
            post_pending("X", "H1", Some(vec![yuan(300)])),
            0,
            rejected(R::PostAmountsCountMismatch),
        ),
        case(
            "more amounts than legs",
            held_h1,
            post_pending("X", "H1", Some(vec![yuan(1), yuan(1), yuan(1)])),
            0,
            rejected(R::PostAmountsCountMismatch),
        ),
        case(
            "an amount above what the leg holds",
            held_h1,
            post_pending("X", "H1", Some(vec![yuan(300), fen(20_001)])),
            0,
            rejected(R::PostAmountExceedsPending),
        ),
        case(
            "exactly what is held",
            held_h1,
            post_pending("X", "H1", Some(vec![yuan(300), yuan(200)])),
            0,
            Expected::Accepted,
        ),
        case(
            "zero on one leg",
            held_h1,
            post_pending("X", "H1", Some(vec![Money::ZERO, yuan(150)])),
            0,
            Expected::Accepted,
        ),
    ]);

    let mut books = fixture();
    held_h1(&mut books);
    let partial = post_pending("X", "H1", Some(vec![yuan(120), Money::ZERO]));
    let (_, change) = books.transfer(partial, at(1)).unwrap();
    let patient = balances_of(&books, "patient");
    assert_eq!(patient.debits_posted, yuan(120));
    assert_eq!(
        patient.debits_pending,
        Money::ZERO,
        "the remainder is released"
    );
    let hospital = balances_of(&books, "hospital");
    assert_eq!(
        (hospital.credits_posted, hospital.credits_pending),
        (yuan(120), Money::ZERO)
    );
    let cash = balances_of(&books, "cash");
    assert_eq!(
        (cash.credits_posted, cash.credits_pending),
        (Money::ZERO, Money::ZERO),
        "a zero amount posts nothing on its leg"
    );
    let held = books.stored_transfer(&transfer_id("H1")).unwrap();
    assert_eq!(held.status, TransferStatus::PendingPosted);
    assert_eq!(books.pending_count(), 0);
    let stored = books.stored_transfer(&transfer_id("X")).unwrap();
    assert_eq!(
        stored.effective_legs(),
        [leg("patient", "hospital", yuan(120))]
    );
    let movements = change.unwrap().movements().count();
    assert_eq!(movements, 3, "two releases and one posting");
}

// ---------------------------------------------------------------------------------------
// 3. References: reversals.
// ---------------------------------------------------------------------------------------

#[test]
fn only_a_posting_can_be_reversed_and_only_once() {
    use Rejection as R;
    check_all(&[
        case(
            "unknown original",
            nothing,
            reverse("X", "T1"),
            0,
            rejected(R::OriginalTransferNotFound),
        ),
        case(
            "a hold",
            held_h1,
            reverse("X", "H1"),
            0,
            rejected(R::OriginalTransferNotPosted),
        ),
        case(
            "a posted hold (reverse its post instead)",
            h1_posted,
            reverse("X", "H1"),
            0,
            rejected(R::OriginalTransferNotPosted),
        ),
        case(
            "a void",
            h1_voided,
            reverse("X", "V1"),
            0,
            rejected(R::OriginalTransferNotPosted),
        ),
        case(
            "an expired hold",
            h1_expired,
            reverse("X", "H1"),
            100,
            rejected(R::OriginalTransferNotPosted),
        ),
        case(
            "already reversed",
            |books| {
                posted_t1(books);
                accept(books, reverse("R1", "T1"), 0);
            },
            reverse("X", "T1"),
            0,
            rejected(R::OriginalTransferAlreadyReversed),
        ),
        case(
            "a posting",
            posted_t1,
            reverse("X", "T1"),
            0,
            Expected::Accepted,
        ),
        case(
            "a post of a hold",
            h1_posted,
            reverse("X", "P1"),
            0,
            Expected::Accepted,
        ),
    ]);
}

#[test]
fn reversing_a_partial_post_reverses_the_posted_amounts() {
    let mut books = fixture();
    held_h1(&mut books);
    accept(
        &mut books,
        post_pending("P1", "H1", Some(vec![yuan(120), yuan(30)])),
        1,
    );
    accept(&mut books, reverse("R1", "P1"), 2);
    for name in ["patient", "hospital", "cash"] {
        let balances = balances_of(&books, name);
        assert_eq!(
            balances.posted_signed_fen(),
            0,
            "{name}: the reversal undoes the posted amounts: {balances:?}"
        );
        assert_eq!(balances.pending_signed_fen(), 0, "{name}");
    }
    let patient = balances_of(&books, "patient");
    assert_eq!(
        (patient.debits_posted, patient.credits_posted),
        (yuan(150), yuan(150))
    );
    let reversal = books.stored_transfer(&transfer_id("R1")).unwrap();
    assert_eq!(
        reversal.effective_legs(),
        [
            leg("hospital", "patient", yuan(120)),
            leg("cash", "patient", yuan(30)),
        ]
    );
    let original = books.stored_transfer(&transfer_id("P1")).unwrap();
    assert_eq!(original.status, TransferStatus::Reversed);
}

// ---------------------------------------------------------------------------------------
// 4. Amounts: limits.
// ---------------------------------------------------------------------------------------

/// X: the patient spends `amount` at the hospital on the credit line.
fn spend(amount: Money) -> TransferRequest {
    post("X", vec![leg("patient", "hospital", amount)])
}

/// A hold of 600 on the patient's credit line, 60 s.
fn patient_holds_600(books: &mut Books) {
    let legs = vec![leg("patient", "hospital", yuan(600))];
    accept(books, hold("H1", legs, HOLD_SECONDS), 0);
}

#[test]
fn a_credit_line_bounds_debits_holds_included() {
    use Rejection as R;
    check_all(&[
        case(
            "up to the line",
            nothing,
            spend(PATIENT_CREDIT_LINE),
            0,
            Expected::Accepted,
        ),
        case(
            "a fen over the line",
            nothing,
            spend(fen(PATIENT_CREDIT_LINE.fen() + 1)),
            0,
            rejected(R::ExceedsCredits),
        ),
        case(
            "a hold over the line",
            nothing,
            hold(
                "X",
                vec![leg(
                    "patient",
                    "hospital",
                    fen(PATIENT_CREDIT_LINE.fen() + 1),
                )],
                HOLD_SECONDS,
            ),
            0,
            rejected(R::ExceedsCredits),
        ),
        case(
            "a hold uses the line",
            patient_holds_600,
            spend(fen(40_001)),
            0,
            rejected(R::ExceedsCredits),
        ),
        case(
            "what the hold leaves",
            patient_holds_600,
            spend(yuan(400)),
            0,
            Expected::Accepted,
        ),
        case(
            "a voided hold frees the line",
            |books| {
                patient_holds_600(books);
                accept(books, void("V1", "H1"), 0);
            },
            spend(PATIENT_CREDIT_LINE),
            0,
            Expected::Accepted,
        ),
        case(
            "an expired hold frees the line once released",
            |books| {
                patient_holds_600(books);
                assert_eq!(books.expire_due(at(DEADLINE)).len(), 1);
            },
            spend(PATIENT_CREDIT_LINE),
            DEADLINE,
            Expected::Accepted,
        ),
        case(
            "a hold past its deadline counts until expire_due releases it",
            patient_holds_600,
            spend(PATIENT_CREDIT_LINE),
            DEADLINE,
            rejected(R::ExceedsCredits),
        ),
        case(
            "a partly posted hold frees its remainder",
            |books| {
                patient_holds_600(books);
                accept(books, post_pending("P1", "H1", Some(vec![yuan(100)])), 0);
            },
            spend(yuan(900)),
            0,
            Expected::Accepted,
        ),
        case(
            "a repayment makes room",
            |books| {
                accept(books, spend(PATIENT_CREDIT_LINE), 0);
                let repay = post("T1", vec![leg("cash", "patient", yuan(200))]);
                accept(books, repay, 0);
            },
            post("Y", vec![leg("patient", "hospital", yuan(200))]),
            0,
            Expected::Accepted,
        ),
        case(
            "a repayment makes only that much room",
            |books| {
                accept(books, spend(PATIENT_CREDIT_LINE), 0);
                let repay = post("T1", vec![leg("cash", "patient", yuan(200))]);
                accept(books, repay, 0);
            },
            post("Y", vec![leg("patient", "hospital", fen(20_001))]),
            0,
            rejected(R::ExceedsCredits),
        ),
        case(
            "the legs of one transfer count together",
            nothing,
            post(
                "X",
                vec![
                    leg("patient", "hospital", yuan(1_500)),
                    leg("cash", "patient", yuan(500)),
                ],
            ),
            0,
            Expected::Accepted,
        ),
        case(
            "the legs of one transfer count together, over the line",
            nothing,
            post(
                "X",
                vec![
                    leg("patient", "hospital", fen(150_001)),
                    leg("cash", "patient", yuan(500)),
                ],
            ),
            0,
            rejected(R::ExceedsCredits),
        ),
        case(
            "a reversal that would overdraw the line",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("cash", "patient", yuan(500))]),
                    0,
                );
                accept(books, spend(yuan(1_500)), 0);
            },
            reverse("R1", "T1"),
            0,
            rejected(R::ExceedsCredits),
        ),
    ]);
}

#[test]
fn a_ceiling_bounds_credits_holds_included() {
    use Rejection as R;
    let fund = |amount: Money| post("X", vec![leg("cash", "deposit", amount)]);
    check_all(&[
        case(
            "up to the ceiling",
            nothing,
            fund(DEPOSIT_CEILING),
            0,
            Expected::Accepted,
        ),
        case(
            "a fen over the ceiling",
            nothing,
            fund(fen(DEPOSIT_CEILING.fen() + 1)),
            0,
            rejected(R::ExceedsDebits),
        ),
        case(
            "a hold uses the ceiling",
            |books| {
                let legs = vec![leg("cash", "deposit", yuan(300))];
                accept(books, hold("H1", legs, HOLD_SECONDS), 0);
            },
            fund(fen(20_001)),
            0,
            rejected(R::ExceedsDebits),
        ),
        case(
            "a voided hold frees the ceiling",
            |books| {
                let legs = vec![leg("cash", "deposit", yuan(300))];
                accept(books, hold("H1", legs, HOLD_SECONDS), 0);
                accept(books, void("V1", "H1"), 0);
            },
            fund(DEPOSIT_CEILING),
            0,
            Expected::Accepted,
        ),
        case(
            "debits raise the ceiling",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("deposit", "cash", yuan(100))]),
                    0,
                )
            },
            fund(yuan(600)),
            0,
            Expected::Accepted,
        ),
    ]);
}

#[test]
fn a_lowered_limit_never_blocks_a_repayment() {
    use Rejection as R;
    check_all(&[
        case(
            "a repayment onto a credit line cut to zero",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("patient", "hospital", yuan(800))]),
                    0,
                );
                let zero = AccountLimit::DebitsWithinCredits { limit: Money::ZERO };
                lower_limit(books, "patient", zero);
            },
            post("X", vec![leg("cash", "patient", yuan(100))]),
            0,
            Expected::Accepted,
        ),
        case(
            "a fen more debt on a credit line cut to zero",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("patient", "hospital", yuan(800))]),
                    0,
                );
                let zero = AccountLimit::DebitsWithinCredits { limit: Money::ZERO };
                lower_limit(books, "patient", zero);
            },
            post("X", vec![leg("patient", "hospital", fen(1))]),
            0,
            rejected(R::ExceedsCredits),
        ),
        case(
            "a hold booked before the cut can still be posted",
            |books| {
                patient_holds_600(books);
                let zero = AccountLimit::DebitsWithinCredits { limit: Money::ZERO };
                lower_limit(books, "patient", zero);
            },
            post_pending("X", "H1", None),
            0,
            Expected::Accepted,
        ),
        case(
            "a hold booked before the cut can still be voided",
            |books| {
                patient_holds_600(books);
                let zero = AccountLimit::DebitsWithinCredits { limit: Money::ZERO };
                lower_limit(books, "patient", zero);
            },
            void("X", "H1"),
            0,
            Expected::Accepted,
        ),
        case(
            "a refund from a deposit whose ceiling was cut to zero",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("cash", "deposit", yuan(400))]),
                    0,
                );
                let zero = AccountLimit::CreditsWithinDebits { limit: Money::ZERO };
                lower_limit(books, "deposit", zero);
            },
            post("X", vec![leg("deposit", "cash", yuan(100))]),
            0,
            Expected::Accepted,
        ),
        case(
            "a fen more into a deposit whose ceiling was cut to zero",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("cash", "deposit", yuan(400))]),
                    0,
                );
                let zero = AccountLimit::CreditsWithinDebits { limit: Money::ZERO };
                lower_limit(books, "deposit", zero);
            },
            post("X", vec![leg("cash", "deposit", fen(1))]),
            0,
            rejected(R::ExceedsDebits),
        ),
    ]);
}

/// Documented order: `exceeds_credits` before `exceeds_debits`, whatever the order of the
/// legs.
#[test]
fn exceeds_credits_comes_before_exceeds_debits() {
    check(&case(
        "both limits broken, the ceiling's leg first",
        nothing,
        post(
            "X",
            vec![
                leg("cash", "deposit", fen(DEPOSIT_CEILING.fen() + 1)),
                leg("patient", "hospital", fen(PATIENT_CREDIT_LINE.fen() + 1)),
            ],
        ),
        0,
        rejected(Rejection::ExceedsCredits),
    ));
}

#[test]
fn exceeds_credits_and_exceeds_debits_in_leg_order_agree_with_the_documented_order() {
    check(&case(
        "both limits broken, the credit line's leg first",
        nothing,
        post(
            "X",
            vec![
                leg("patient", "hospital", fen(PATIENT_CREDIT_LINE.fen() + 1)),
                leg("cash", "deposit", fen(DEPOSIT_CEILING.fen() + 1)),
            ],
        ),
        0,
        rejected(Rejection::ExceedsCredits),
    ));
}

// ---------------------------------------------------------------------------------------
// 4. Amounts: overflow near Money::MAX.
// ---------------------------------------------------------------------------------------

#[test]
fn balances_never_pass_the_maximum() {
    use Rejection as R;
    check_all(&[
        case(
            "up to the maximum",
            |books| {
                let legs = vec![leg("cash", "hospital", fen(Money::MAX.fen() - 1))];
                accept(books, post("T1", legs), 0);
            },
            post("X", vec![leg("cash", "hospital", fen(1))]),
            0,
            Expected::Accepted,
        ),
        case(
            "a fen past the maximum, posted",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("cash", "hospital", Money::MAX)]),
                    0,
                )
            },
            post("X", vec![leg("cash", "hospital", fen(1))]),
            0,
            rejected(R::OverflowsBalance),
        ),
        case(
            "a fen past the maximum, only on the credit side",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("cash", "hospital", Money::MAX)]),
                    0,
                )
            },
            post("X", vec![leg("deposit", "hospital", fen(1))]),
            0,
            rejected(R::OverflowsBalance),
        ),
        case(
            "a fen past the maximum, held",
            |books| {
                let legs = vec![leg("cash", "hospital", Money::MAX)];
                accept(books, hold("H1", legs, HOLD_SECONDS), 0);
            },
            hold("X", vec![leg("cash", "hospital", fen(1))], HOLD_SECONDS),
            0,
            rejected(R::OverflowsBalance),
        ),
        case(
            "posting a hold past the maximum",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("cash", "hospital", Money::MAX)]),
                    0,
                );
                let legs = vec![leg("cash", "hospital", fen(1))];
                accept(books, hold("H1", legs, HOLD_SECONDS), 0);
            },
            post_pending("X", "H1", None),
            0,
            rejected(R::OverflowsBalance),
        ),
        case(
            "pending and posted are bounded apart",
            |books| {
                accept(
                    books,
                    post("T1", vec![leg("cash", "hospital", Money::MAX)]),
                    0,
                )
            },
            hold("X", vec![leg("cash", "hospital", Money::MAX)], HOLD_SECONDS),
            0,
            Expected::Accepted,
        ),
    ]);
}

/// Documented order: `exceeds_credits` before `overflows_balance`.
#[test]
fn exceeds_credits_comes_before_overflows_balance() {
    check(&case(
        "a debit past the line and past the maximum",
        |books| {
            accept(
                books,
                post("T1", vec![leg("patient", "hospital", yuan(1))]),
                0,
            )
        },
        post("X", vec![leg("patient", "hospital", Money::MAX)]),
        0,
        rejected(Rejection::ExceedsCredits),
    ));
}

/// `debits_pending + debits_posted <= credits_posted + limit` holds here (10^15 + 1 fen on
/// the left, 10^15 + 1,000 yuan on the right), but both sums pass `Money::MAX`.
#[test]
fn a_credit_line_is_exact_at_the_top_of_the_range() {
    check(&case(
        "a fen held on a line whose debits and credits are at the maximum",
        |books| {
            accept(
                books,
                post("T1", vec![leg("cash", "patient", Money::MAX)]),
                0,
            );
            accept(
                books,
                post("T2", vec![leg("patient", "hospital", Money::MAX)]),
                0,
            );
        },
        hold("X", vec![leg("patient", "deposit", fen(1))], HOLD_SECONDS),
        0,
        Expected::Accepted,
    ));
}

// ---------------------------------------------------------------------------------------
// Linked chains.
// ---------------------------------------------------------------------------------------

#[test]
fn a_chain_applies_every_transfer() {
    let mut books = fixture();
    let chain = vec![
        post("T1", vec![leg("cash", "patient", yuan(500))]),
        hold(
            "H1",
            vec![leg("patient", "hospital", yuan(1_200))],
            HOLD_SECONDS,
        ),
        post_pending("P1", "H1", Some(vec![yuan(1_000)])),
    ];
    let (outcomes, change) = books.transfer_chain(chain.clone(), at(0)).unwrap();
    assert_eq!(outcomes.len(), 3);
    assert!(outcomes.iter().all(|outcome| !outcome.replayed));
    let Some(LedgerChange::Transfers(effects)) = change else {
        panic!("a chain journals one Transfers change");
    };
    let requests: Vec<_> = effects
        .iter()
        .map(|effect| effect.request.clone())
        .collect();
    assert_eq!(requests, chain);
    let patient = balances_of(&books, "patient");
    assert_eq!(patient.credits_posted, yuan(500));
    assert_eq!(patient.debits_posted, yuan(1_000));
    assert_eq!(patient.debits_pending, Money::ZERO);
    let held = books.stored_transfer(&transfer_id("H1")).unwrap();
    assert_eq!(held.status, TransferStatus::PendingPosted);
    assert_eq!(books.pending_count(), 0);

    // The same chain again replays every transfer and writes nothing.
    let before = snapshot(&books);
    let (outcomes, change) = books.transfer_chain(chain, at(5)).unwrap();
    assert!(outcomes.iter().all(|outcome| outcome.replayed));
    assert!(outcomes.iter().all(|outcome| outcome.created_at == at(0)));
    assert!(change.is_none());
    assert_eq!(snapshot(&books), before);
}

#[test]
fn a_chain_where_a_transfer_depends_on_an_earlier_credit_succeeds() {
    let repay = post("T1", vec![leg("cash", "patient", yuan(500))]);
    let spend = post("T2", vec![leg("patient", "hospital", yuan(1_500))]);

    let mut books = fixture();
    let (outcomes, _) = books
        .transfer_chain(vec![repay.clone(), spend.clone()], at(0))
        .unwrap();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(balances_of(&books, "patient").debits_posted, yuan(1_500));

    // The other way round, the spend comes first and exceeds the line.
    let mut books = fixture();
    let before = snapshot(&books);
    let failure = books.transfer_chain(vec![spend, repay], at(0));
    assert_eq!(failure.unwrap_err(), (0, Rejection::ExceedsCredits));
    assert_eq!(snapshot(&books), before);
}

#[test]
fn a_failing_chain_applies_nothing_and_reports_its_index() {
    let mut books = fixture();
    posted_t1(&mut books);
    let before = snapshot(&books);
    let chain = vec![
        post("T2", vec![leg("cash", "hospital", yuan(1))]),
        hold(
            "H2",
            vec![leg("patient", "hospital", yuan(5))],
            HOLD_SECONDS,
        ),
        post("T3", vec![leg("hospital", "ghost", yuan(1))]),
    ];
    let failure = books.transfer_chain(chain.clone(), at(1));
    assert_eq!(failure.unwrap_err(), (2, Rejection::CreditAccountNotFound));
    assert_eq!(snapshot(&books), before);

    // Every id stays free: the chain without its bad transfer is accepted.
    let (outcomes, change) = books.transfer_chain(chain[..2].to_vec(), at(1)).unwrap();
    assert!(outcomes.iter().all(|outcome| !outcome.replayed));
    assert!(change.is_some());
    accept(
        &mut books,
        post("T3", vec![leg("hospital", "cash", yuan(1))]),
        1,
    );
}

#[test]
fn a_failing_chain_restores_holds_their_statuses_and_deadlines() {
    let mut books = fixture();
    held_h1(&mut books); // deadline T0 + 60 s
    let legs = vec![leg("cash", "hospital", yuan(5))];
    accept(&mut books, hold("H2", legs, 2 * HOLD_SECONDS), 0); // deadline T0 + 120 s
    let before = snapshot(&books);
    assert_eq!(books.pending_count(), 2);

    let chain = vec![
        post_pending("P1", "H1", Some(vec![yuan(100), Money::ZERO])),
        void("V1", "H2"),
        hold("H3", vec![leg("cash", "hospital", yuan(7))], 30),
        post_pending("P2", "H3", None),
        reverse("R1", "P1"),
        post("T3", vec![leg("ghost", "cash", yuan(1))]),
    ];
    let failure = books.transfer_chain(chain, at(1));
    assert_eq!(failure.unwrap_err(), (5, Rejection::DebitAccountNotFound));
    assert_eq!(snapshot(&books), before, "statuses, deadlines and balances");
    assert_eq!(books.pending_count(), 2);

    // The deadline index is back as it was: nothing is due before H1's deadline, then H1 and
    // H2 expire in deadline order, and the chain's own hold left no trace.
    assert!(books.expire_due(at(59)).is_empty());
    let expired: Vec<TransferId> = books
        .expire_due(at(1_000))
        .into_iter()
        .map(|change| match change {
            LedgerChange::Expired { pending_id, .. } => pending_id,
            other => panic!("expected an expiry, got {other:?}"),
        })
        .collect();
    assert_eq!(expired, vec![transfer_id("H1"), transfer_id("H2")]);
    for name in ["patient", "hospital", "cash"] {
        let balances = balances_of(&books, name);
        assert_eq!(balances.debits_pending, Money::ZERO, "{name}");
        assert_eq!(balances.credits_pending, Money::ZERO, "{name}");
    }
}

#[test]
fn a_chain_with_a_replay_inside_writes_only_the_new_transfers() {
    let mut books = fixture();
    posted_t1(&mut books);
    let t1 = post("T1", vec![leg("cash", "hospital", yuan(100))]);
    let t2 = post("T2", vec![leg("cash", "hospital", yuan(2))]);
    let (outcomes, change) = books
        .transfer_chain(vec![t1, t2.clone(), t2.clone()], at(3))
        .unwrap();
    let replayed: Vec<bool> = outcomes.iter().map(|outcome| outcome.replayed).collect();
    assert_eq!(replayed, vec![true, false, true]);
    let Some(LedgerChange::Transfers(effects)) = change else {
        panic!("one change");
    };
    assert_eq!(effects.len(), 1);
    assert_eq!(effects[0].request, t2);
    assert_eq!(balances_of(&books, "hospital").credits_posted, yuan(102));
}

#[test]
fn a_chain_that_reuses_its_own_id_with_other_content_fails() {
    let mut books = fixture();
    let before = snapshot(&books);
    let chain = vec![
        post("T2", vec![leg("cash", "hospital", yuan(2))]),
        post("T2", vec![leg("cash", "hospital", yuan(3))]),
    ];
    let failure = books.transfer_chain(chain, at(0));
    assert_eq!(
        failure.unwrap_err(),
        (1, Rejection::ExistsWithDifferentAmount)
    );
    assert_eq!(snapshot(&books), before);
    accept(
        &mut books,
        post("T2", vec![leg("cash", "hospital", yuan(3))]),
        0,
    );
}

// ---------------------------------------------------------------------------------------
// Accounts.
// ---------------------------------------------------------------------------------------

#[test]
fn accounts_open_once_and_limits_change_only_on_known_accounts() {
    let mut books = fixture();
    let same = AccountSpec {
        id: account("patient"),
        limit: AccountLimit::DebitsWithinCredits {
            limit: PATIENT_CREDIT_LINE,
        },
    };
    assert_eq!(books.open_account(same), Ok(None), "same limit: a replay");
    let other = AccountSpec {
        id: account("patient"),
        limit: AccountLimit::Unbounded,
    };
    assert_eq!(
        books.open_account(other),
        Err(AccountRejection::ExistsWithDifferentLimit)
    );
    assert_eq!(
        books.set_limit(&account("ghost"), AccountLimit::Unbounded),
        Err(AccountRejection::AccountNotFound)
    );
    let unchanged = AccountLimit::DebitsWithinCredits {
        limit: PATIENT_CREDIT_LINE,
    };
    assert_eq!(books.set_limit(&account("patient"), unchanged), Ok(None));
}
