//! `GET /metrics`: Prometheus text. Request counts and latency histograms per route (the
//! route pattern, never the concrete path: paths carry patient ids), and ledger figures read
//! at scrape time.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::Ordering;
use treatfirst_ledger::scheme::SchemeLedger;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// 0.25 ms to about 4 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

/// The ledger figures, refreshed at each scrape.
#[derive(Default)]
struct LedgerGauges {
    commit_groups: Gauge,
    commands: Gauge,
    records: Gauge,
    store_bytes: Gauge,
    patients: Gauge,
    hospitals: Gauge,
    visits: Gauge,
    stopped: Gauge,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    ledger: LedgerGauges,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("treatfirst");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route pattern and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route pattern",
            latency.clone(),
        );
        let ledger = LedgerGauges::default();
        let gauges: [(&str, &str, &Gauge); 8] = [
            (
                "ledger_commit_groups",
                "Commit groups written (one fsync each)",
                &ledger.commit_groups,
            ),
            (
                "ledger_commands",
                "Commands executed by the ledger's writer",
                &ledger.commands,
            ),
            ("ledger_records", "Journal records written", &ledger.records),
            (
                "ledger_store_bytes",
                "Size of the embedded store on disk",
                &ledger.store_bytes,
            ),
            ("scheme_patients", "Patients enrolled", &ledger.patients),
            (
                "scheme_hospitals",
                "Hospitals registered",
                &ledger.hospitals,
            ),
            ("scheme_visits", "Visits opened", &ledger.visits),
            (
                "ledger_stopped",
                "1 when the ledger stopped after a storage failure",
                &ledger.stopped,
            ),
        ];
        for (name, help, gauge) in gauges {
            registry.register(name, help, gauge.clone());
        }
        Metrics {
            registry,
            requests,
            latency,
            ledger,
        }
    }

    /// Counts one request.
    pub fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(seconds);
    }

    /// The exposition text, with the ledger figures as they stand.
    pub fn render(&self, scheme: &SchemeLedger) -> String {
        let engine = scheme.engine();
        let stats = engine.stats();
        let as_i64 = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        self.ledger
            .commit_groups
            .set(as_i64(stats.commit_groups.load(Ordering::Relaxed)));
        self.ledger
            .commands
            .set(as_i64(stats.commands.load(Ordering::Relaxed)));
        self.ledger
            .records
            .set(as_i64(stats.records.load(Ordering::Relaxed)));
        self.ledger
            .store_bytes
            .set(as_i64(engine.store().size_on_disk().unwrap_or(0)));
        self.ledger.stopped.set(i64::from(engine.is_stopped()));
        {
            let state = scheme.read();
            let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
            self.ledger.patients.set(count(state.patients().len()));
            self.ledger.hospitals.set(count(state.hospitals().len()));
            self.ledger.visits.set(count(state.visits().len()));
        }
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
