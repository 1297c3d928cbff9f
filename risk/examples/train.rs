//! Runs the `risk` CLI module as the main binary will mount it.
//!
//! ```text
//! cargo run --release -p treatfirst-risk --example train -- \
//!     train --data ../shared/data/uci_credit_card_taiwan.csv \
//!     --label default.payment.next.month --out /tmp/model.json
//! ```

use clap::Parser;
use treatfirst_risk::RiskCommand;

#[derive(Debug, Parser)]
#[command(name = "risk", about = "treatfirst default-risk scorecard")]
struct Arguments {
    #[command(subcommand)]
    command: RiskCommand,
}

fn main() -> Result<(), treatfirst_risk::RiskError> {
    treatfirst_risk::run(Arguments::parse().command)
}
