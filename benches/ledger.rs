//! Criterion benchmarks of the ledger: pure book-keeping, and durable batches on sled.
//!
//! `cargo bench --bench ledger`. The end-to-end figure the issue names comes from
//! `treatfirst benchmark ledger`, which drives concurrent submitters.

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use treatfirst_ledger::journal::SledStore;
use treatfirst_ledger::{
    AccountId, AccountLimit, AccountSpec, Books, Ledger, Leg, ManualClock, Money, Timestamp,
    TransferId, TransferRequest,
};

const ACCOUNTS: usize = 1_000;
const BATCH: usize = 8_190;

fn accounts() -> Vec<AccountId> {
    (0..ACCOUNTS)
        .map(|index| AccountId::new(&format!("bench:{index}")).unwrap())
        .collect()
}

fn transfers(ids: &[AccountId], start: usize, count: usize) -> Vec<TransferRequest> {
    (start..start + count)
        .map(|number| {
            let debit = number * 7 % ids.len();
            let credit = (debit + 1 + number % 13) % ids.len();
            let amount = Money::from_fen(1 + (number as u64 * 31) % 100_000).unwrap();
            TransferRequest::post(
                TransferId::new(&format!("t{number}")).unwrap(),
                vec![Leg::new(&ids[debit], &ids[credit], amount)],
            )
        })
        .collect()
}

fn books_in_memory(criterion: &mut Criterion) {
    let ids = accounts();
    let mut group = criterion.benchmark_group("books");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("execute_batch_in_memory", |bencher| {
        bencher.iter_batched(
            || {
                let mut books = Books::new();
                for id in &ids {
                    books
                        .open_account(AccountSpec {
                            id: id.clone(),
                            limit: AccountLimit::Unbounded,
                        })
                        .unwrap();
                }
                (books, transfers(&ids, 0, BATCH))
            },
            |(mut books, requests)| {
                for request in requests {
                    books.transfer(request, Timestamp::from_seconds(1)).unwrap();
                }
                books
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

fn durable_batches(criterion: &mut Criterion) {
    let ids = accounts();
    let directory = tempfile::tempdir().unwrap();
    let store = Arc::new(SledStore::open(directory.path()).unwrap());
    let ledger = Ledger::with_store(
        store,
        Arc::new(ManualClock::new(Timestamp::from_seconds(1))),
    )
    .unwrap();
    for id in &ids {
        ledger
            .open_account(AccountSpec {
                id: id.clone(),
                limit: AccountLimit::Unbounded,
            })
            .unwrap()
            .unwrap();
    }
    let mut next = 0;
    let mut group = criterion.benchmark_group("ledger");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function("durable_batch_sled", |bencher| {
        bencher.iter_batched(
            || {
                next += BATCH;
                transfers(&ids, next, BATCH)
            },
            |requests| ledger.transfer_batch(requests).unwrap(),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, books_in_memory, durable_batches);
criterion_main!(benches);
