//! Many threads against one hot account with a credit limit: the limit holds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use treatfirst_ledger::journal::SledStore;
use treatfirst_ledger::verify::verify;
use treatfirst_ledger::{
    AccountId, AccountLimit, AccountSpec, Books, Ledger, Leg, ManualClock, Money, Rejection,
    Timestamp, TransferAction, TransferId, TransferRequest,
};

#[test]
fn a_hot_credit_line_is_never_exceeded() {
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(directory.path()).unwrap());
    let clock = Arc::new(ManualClock::new(Timestamp::from_seconds(1_800_000_000)));
    let ledger = Arc::new(Ledger::with_store(store, clock).unwrap());
    let hot = AccountId::new("patient:HOT:receivable").unwrap();
    let limit = Money::yuan(1_000);
    ledger
        .open_account(AccountSpec {
            id: hot.clone(),
            limit: AccountLimit::DebitsWithinCredits { limit },
        })
        .unwrap()
        .unwrap();
    let hospitals: Vec<AccountId> = (0..4)
        .map(|index| AccountId::new(&format!("hospital:H{index}")).unwrap())
        .collect();
    for hospital in &hospitals {
        ledger
            .open_account(AccountSpec {
                id: hospital.clone(),
                limit: AccountLimit::Unbounded,
            })
            .unwrap()
            .unwrap();
    }

    let accepted_fen = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..16u64)
        .map(|thread| {
            let (ledger, hot, hospitals, accepted_fen) = (
                Arc::clone(&ledger),
                hot.clone(),
                hospitals.clone(),
                Arc::clone(&accepted_fen),
            );
            std::thread::spawn(move || {
                let mut exceeded = 0;
                for step in 0..60u64 {
                    let amount =
                        Money::from_fen(1_000 + (thread * 37 + step * 101) % 9_000).unwrap();
                    let hospital = &hospitals[(thread + step) as usize % hospitals.len()];
                    let id = TransferId::new(&format!("t{thread}-{step}")).unwrap();
                    let legs = vec![Leg::new(&hot, hospital, amount)];
                    // Half holds (which count against the limit), half postings.
                    let request = if step % 2 == 0 {
                        TransferRequest::post(id, legs)
                    } else {
                        TransferRequest {
                            id,
                            action: TransferAction::Hold {
                                legs,
                                timeout_seconds: 3_600,
                            },
                        }
                    };
                    match ledger.transfer(request).unwrap() {
                        Ok(_) => {
                            accepted_fen.fetch_add(amount.fen(), Ordering::Relaxed);
                        }
                        Err(Rejection::ExceedsCredits) => exceeded += 1,
                        Err(other) => panic!("unexpected rejection {other:?}"),
                    }
                    let balances = ledger.balances(&hot).unwrap().balances;
                    let used = balances.debits_posted.fen() + balances.debits_pending.fen();
                    assert!(
                        used <= balances.credits_posted.fen() + limit.fen(),
                        "limit exceeded: {balances:?}"
                    );
                }
                exceeded
            })
        })
        .collect();
    let exceeded: u64 = threads
        .into_iter()
        .map(|thread| thread.join().unwrap())
        .sum();

    let balances = ledger.balances(&hot).unwrap().balances;
    let used = balances.debits_posted.fen() + balances.debits_pending.fen();
    assert_eq!(
        used,
        accepted_fen.load(Ordering::Relaxed),
        "every accepted amount is booked once"
    );
    assert!(used <= limit.fen());
    assert!(exceeded > 0, "the workload must press against the limit");
    // The limit is used nearly to the full: a refusal only when the next amount did not fit.
    assert!(
        limit.fen() - used < 10_000,
        "left unused: {} fen",
        limit.fen() - used
    );
    drop(ledger);
    let store = SledStore::open(directory.path()).unwrap();
    let report = verify::<Books>(&store);
    assert!(report.is_sound(), "{:?}", report.problems);
}
