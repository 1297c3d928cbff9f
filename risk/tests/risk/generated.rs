//! Seeded synthetic repayment histories with a known signal.

use std::fmt::Write as _;

/// SplitMix64, so the data depend on the seed only.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick(&mut self, choices: &[f64]) -> f64 {
        choices[(self.unit() * choices.len() as f64) as usize]
    }
}

pub const LABEL: &str = "defaulted";

/// CSV text of `rows` patients. The label depends on `PAY_0` (months of delay in the last
/// cycle) and, weakly, on utilization; `SEX` is made to track the label so a model would love
/// it, and must refuse it; `noise` carries nothing.
pub fn history_csv(rows: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut text = String::from(
        "ID,SEX,AGE,LIMIT_BAL,PAY_0,PAY_2,BILL_AMT1,BILL_AMT2,PAY_AMT1,noise,defaulted\n",
    );
    for id in 0..rows {
        let delay = rng.pick(&[-1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0]);
        let previous_delay = rng.pick(&[-1.0, 0.0, 0.0, 1.0]);
        let limit = rng.pick(&[10000.0, 20000.0, 50000.0, 100000.0]);
        let utilization = rng.unit();
        let bill = (limit * utilization).round();
        let previous_bill = (bill * (0.5 + rng.unit())).round();
        let repaid = (previous_bill * rng.unit()).round();
        let log_odds = -2.5 + 1.3 * delay.max(0.0) + 0.6 * utilization;
        let bad = rng.unit() < 1.0 / (1.0 + (-log_odds).exp());
        let sex = if rng.unit() < 0.85 {
            u8::from(bad) + 1
        } else {
            2 - u8::from(bad)
        };
        let age = 20.0 + (rng.unit() * 45.0).floor();
        let noise = rng.unit();
        writeln!(
            text,
            "{id},{sex},{age},{limit},{delay},{previous_delay},{bill},{previous_bill},{repaid},{noise:.6},{}",
            u8::from(bad)
        )
        .expect("writing to a string");
    }
    text
}
