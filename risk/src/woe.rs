//! Weight of evidence and information value.
//!
//! Convention: `WoE = ln(share of all goods in the bin / share of all bads in the bin)`, so a
//! positive WoE marks a safer-than-average bin. Counts get half an observation of smoothing so
//! a bin without bads (or goods) has a finite WoE; an empty bin has WoE 0 (no evidence).
//! `IV = sum over bins of (good share - bad share) * WoE`; rules of thumb: < 0.02 useless,
//! 0.02-0.1 weak, 0.1-0.3 medium, > 0.3 strong.

use serde::{Deserialize, Serialize};

/// Smoothing added to each count of a non-empty bin.
pub const WOE_SMOOTHING: f64 = 0.5;

/// How many goods (label 0) and bads (label 1) fall in a bin.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BinCounts {
    pub goods: u64,
    pub bads: u64,
}

impl BinCounts {
    pub fn total(self) -> u64 {
        self.goods + self.bads
    }

    /// Observed bad rate, `NaN` for an empty bin.
    pub fn bad_rate(self) -> f64 {
        self.bads as f64 / self.total() as f64
    }

    /// The sum of all bins.
    pub fn sum(bins: &[BinCounts]) -> BinCounts {
        bins.iter()
            .fold(BinCounts::default(), |sum, bin| sum + *bin)
    }
}

impl std::ops::Add for BinCounts {
    type Output = BinCounts;

    fn add(self, other: BinCounts) -> BinCounts {
        BinCounts {
            goods: self.goods + other.goods,
            bads: self.bads + other.bads,
        }
    }
}

/// WoE of one bin given the totals over all bins.
pub fn weight_of_evidence(bin: BinCounts, totals: BinCounts) -> f64 {
    assert!(bin.goods <= totals.goods && bin.bads <= totals.bads);
    if bin.total() == 0 || totals.goods == 0 || totals.bads == 0 {
        return 0.0;
    }
    let good_share = (bin.goods as f64 + WOE_SMOOTHING) / totals.goods as f64;
    let bad_share = (bin.bads as f64 + WOE_SMOOTHING) / totals.bads as f64;
    let woe = (good_share / bad_share).ln();
    debug_assert!(woe.is_finite());
    woe
}

/// Information value of a binning.
pub fn information_value(bins: &[BinCounts]) -> f64 {
    let totals = BinCounts::sum(bins);
    if totals.goods == 0 || totals.bads == 0 {
        return 0.0;
    }
    let value: f64 = bins
        .iter()
        .map(|&bin| {
            let good_share = bin.goods as f64 / totals.goods as f64;
            let bad_share = bin.bads as f64 / totals.bads as f64;
            (good_share - bad_share) * weight_of_evidence(bin, totals)
        })
        .sum();
    debug_assert!(value >= -1e-9, "IV is never negative: {value}");
    value.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(goods: u64, bads: u64) -> BinCounts {
        BinCounts { goods, bads }
    }

    #[test]
    fn woe_matches_hand_computation() {
        // Totals 100 goods, 50 bads. Bin: 40 goods, 10 bads.
        // good share (40.5/100) = 0.405, bad share (10.5/50) = 0.21, WoE = ln(0.405/0.21).
        let woe = weight_of_evidence(counts(40, 10), counts(100, 50));
        assert!((woe - (0.405f64 / 0.21).ln()).abs() < 1e-12);
        assert!(woe > 0.0, "safer than average");
        assert!(weight_of_evidence(counts(10, 20), counts(100, 50)) < 0.0);
        assert_eq!(weight_of_evidence(counts(0, 0), counts(100, 50)), 0.0);
    }

    #[test]
    fn iv_matches_hand_computation() {
        // Two bins: (60 g, 10 b) and (40 g, 40 b); totals 100 g, 50 b.
        let bins = [counts(60, 10), counts(40, 40)];
        let woe_first = ((60.5f64 / 100.0) / (10.5 / 50.0)).ln();
        let woe_second = ((40.5f64 / 100.0) / (40.5 / 50.0)).ln();
        let expected = (0.6 - 0.2) * woe_first + (0.4 - 0.8) * woe_second;
        assert!((information_value(&bins) - expected).abs() < 1e-12);
        // No separation: IV 0.
        assert!(information_value(&[counts(50, 25), counts(50, 25)]) < 1e-3);
    }
}
