//! Binning: quantile fine classing, then merging adjacent bins until bad rates are monotone.
//!
//! Value bins are given by ascending upper edges: bin `i` holds `edge[i-1] < x <= edge[i]`,
//! the last value bin holds `x > edge[last]`. Missing values (`NaN`) always have their own bin,
//! placed after the value bins and never merged.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::woe::{information_value, BinCounts};

/// Most fine bins quantile classing may produce.
pub const FINE_BINS_MAX: usize = 255;

/// Ascending upper edges of the value bins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cuts {
    pub upper_edges: Vec<f64>,
}

impl Cuts {
    pub fn value_bins(&self) -> usize {
        self.upper_edges.len() + 1
    }

    /// Index of the missing bin, after the value bins.
    pub fn missing_bin(&self) -> usize {
        self.value_bins()
    }

    /// Value bins plus the missing bin.
    pub fn bins(&self) -> usize {
        self.value_bins() + 1
    }

    pub fn bin_of(&self, value: f64) -> usize {
        if value.is_nan() {
            return self.missing_bin();
        }
        self.upper_edges.partition_point(|&edge| edge < value)
    }

    /// The bin of every value.
    pub fn assign(&self, values: &[f64]) -> Vec<usize> {
        values.iter().map(|&value| self.bin_of(value)).collect()
    }

    /// Good and bad counts per bin (missing bin last).
    pub fn counts(&self, values: &[f64], bads: &[bool]) -> Vec<BinCounts> {
        assert_eq!(values.len(), bads.len());
        let mut counts = vec![BinCounts::default(); self.bins()];
        for (&value, &bad) in values.iter().zip(bads) {
            let bin = &mut counts[self.bin_of(value)];
            if bad {
                bin.bads += 1;
            } else {
                bin.goods += 1;
            }
        }
        counts
    }

    /// Coarser cuts keeping only the edges at the ends of `groups` (ranges of value bins that
    /// together cover all value bins in order).
    pub fn merged(&self, groups: &[Range<usize>]) -> Cuts {
        assert_eq!(groups.first().map(|group| group.start), Some(0));
        assert_eq!(
            groups.last().map(|group| group.end),
            Some(self.value_bins())
        );
        assert!(groups.windows(2).all(|pair| pair[0].end == pair[1].start));
        Cuts {
            upper_edges: groups[..groups.len() - 1]
                .iter()
                .map(|group| self.upper_edges[group.end - 1])
                .collect(),
        }
    }
}

/// Quantile fine classing into at most `bins_max` value bins of about equal size. Ties stay
/// together, so a value shared by many rows makes one bin (and fewer bins overall).
pub fn quantile_cuts(values: &[f64], bins_max: usize) -> Cuts {
    assert!((1..=FINE_BINS_MAX).contains(&bins_max));
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    sorted.sort_by(f64::total_cmp);
    let Some(&largest) = sorted.last() else {
        return Cuts {
            upper_edges: Vec::new(),
        };
    };
    let count = sorted.len();
    let mut upper_edges: Vec<f64> = Vec::with_capacity(bins_max);
    for bin in 1..bins_max {
        let position = (bin * count).div_ceil(bins_max).saturating_sub(1);
        let edge = sorted[position];
        if edge < largest && upper_edges.last().map_or(true, |&last| last < edge) {
            upper_edges.push(edge);
        }
    }
    debug_assert!(upper_edges.windows(2).all(|pair| pair[0] < pair[1]));
    Cuts { upper_edges }
}

/// Direction of a monotone bad-rate trend across value bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trend {
    Increasing,
    Decreasing,
}

/// Merges adjacent value bins (counts in value order, no missing bin) into groups whose bad
/// rates are strictly monotone, each holding at least `rows_min` rows where possible. Both
/// directions are tried with pool-adjacent-violators; the one keeping more information value
/// wins.
pub fn monotone_groups(counts: &[BinCounts], rows_min: u64) -> (Vec<Range<usize>>, Trend) {
    assert!(!counts.is_empty());
    let candidates = [Trend::Increasing, Trend::Decreasing].map(|trend| {
        let groups = enforce_size(pool_adjacent_violators(counts, trend), counts, rows_min);
        let merged: Vec<BinCounts> = groups
            .iter()
            .map(|group| BinCounts::sum(&counts[group.clone()]))
            .collect();
        (information_value(&merged), groups, trend)
    });
    let [increasing, decreasing] = candidates;
    let (_, groups, trend) = if decreasing.0 > increasing.0 {
        decreasing
    } else {
        increasing
    };
    debug_assert!(is_monotone(counts, &groups, trend));
    (groups, trend)
}

fn pool_adjacent_violators(counts: &[BinCounts], trend: Trend) -> Vec<Range<usize>> {
    let mut blocks: Vec<(Range<usize>, BinCounts)> = Vec::with_capacity(counts.len());
    for (index, &bin) in counts.iter().enumerate() {
        blocks.push((index..index + 1, bin));
        while blocks.len() >= 2 {
            let last = blocks[blocks.len() - 1].1;
            let previous = blocks[blocks.len() - 2].1;
            if !violates(previous, last, trend) {
                break;
            }
            let (range, bin) = blocks.pop().expect("two blocks");
            let top = blocks.last_mut().expect("one block");
            top.0.end = range.end;
            top.1 = top.1 + bin;
        }
    }
    blocks.into_iter().map(|(range, _)| range).collect()
}

/// Whether `next` fails to follow `previous` strictly in the trend (empty bins always merge).
fn violates(previous: BinCounts, next: BinCounts, trend: Trend) -> bool {
    if previous.total() == 0 || next.total() == 0 {
        return true;
    }
    // Compare bads/total without division: b1 * t2 vs b2 * t1.
    let left = u128::from(previous.bads) * u128::from(next.total());
    let right = u128::from(next.bads) * u128::from(previous.total());
    match trend {
        Trend::Increasing => left >= right,
        Trend::Decreasing => left <= right,
    }
}

/// Merges groups smaller than `rows_min` into the neighbour with the closer bad rate (merging
/// neighbours keeps a monotone sequence monotone).
fn enforce_size(
    mut groups: Vec<Range<usize>>,
    counts: &[BinCounts],
    rows_min: u64,
) -> Vec<Range<usize>> {
    let total = |group: &Range<usize>| BinCounts::sum(&counts[group.clone()]);
    while groups.len() > 1 {
        let Some(small) = (0..groups.len())
            .filter(|&index| total(&groups[index]).total() < rows_min)
            .min_by_key(|&index| total(&groups[index]).total())
        else {
            break;
        };
        let rate = total(&groups[small]).bad_rate();
        let distance = |index: usize| (total(&groups[index]).bad_rate() - rate).abs();
        let neighbour = match (small.checked_sub(1), groups.get(small + 1)) {
            (Some(left), Some(_)) if distance(left) <= distance(small + 1) => left,
            (Some(left), None) => left,
            _ => small + 1,
        };
        let (first, second) = (small.min(neighbour), small.max(neighbour));
        groups[first].end = groups[second].end;
        groups.remove(second);
    }
    groups
}

fn is_monotone(counts: &[BinCounts], groups: &[Range<usize>], trend: Trend) -> bool {
    let merged: Vec<BinCounts> = groups
        .iter()
        .map(|group| BinCounts::sum(&counts[group.clone()]))
        .collect();
    merged
        .windows(2)
        .all(|pair| !violates(pair[0], pair[1], trend))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(u64, u64)]) -> Vec<BinCounts> {
        pairs
            .iter()
            .map(|&(goods, bads)| BinCounts { goods, bads })
            .collect()
    }

    #[test]
    fn quantile_cuts_split_evenly_and_keep_ties_together() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        let cuts = quantile_cuts(&values, 4);
        assert_eq!(cuts.upper_edges, vec![25.0, 50.0, 75.0]);
        assert_eq!(cuts.bin_of(25.0), 0);
        assert_eq!(cuts.bin_of(25.5), 1);
        assert_eq!(cuts.bin_of(1000.0), 3);
        assert_eq!(cuts.bin_of(f64::NAN), 4);
        let tied = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, f64::NAN];
        let cuts = quantile_cuts(&tied, 8);
        assert_eq!(cuts.upper_edges, vec![0.0, 1.0]);
        let counts = cuts.counts(&tied, &[false; 9]);
        assert_eq!(
            counts.iter().map(|bin| bin.total()).collect::<Vec<_>>(),
            vec![6, 1, 1, 1]
        );
    }

    #[test]
    fn monotone_merge_pools_violators() {
        // Bad rates 10%, 30%, 20%, 50%: the 30%/20% pair violates an increasing trend and
        // pools to 25%, giving 10%, 25%, 50%.
        let bins = counts(&[(90, 10), (70, 30), (80, 20), (50, 50)]);
        let (groups, trend) = monotone_groups(&bins, 0);
        assert_eq!(trend, Trend::Increasing);
        assert_eq!(groups, vec![0..1, 1..3, 3..4]);
    }

    #[test]
    fn monotone_merge_finds_a_decreasing_trend_and_merges_ties() {
        let bins = counts(&[(50, 50), (75, 25), (75, 25), (95, 5)]);
        let (groups, trend) = monotone_groups(&bins, 0);
        assert_eq!(trend, Trend::Decreasing);
        assert_eq!(groups, vec![0..1, 1..3, 3..4]);
    }

    #[test]
    fn small_groups_merge_into_the_closer_neighbour() {
        // The 5-row middle bin (rate 40%) is closer to 50% than to 10%.
        let bins = counts(&[(90, 10), (3, 2), (50, 50)]);
        let (groups, _) = monotone_groups(&bins, 10);
        assert_eq!(groups, vec![0..1, 1..3]);
        let cuts = Cuts {
            upper_edges: vec![1.0, 2.0],
        };
        assert_eq!(cuts.merged(&groups).upper_edges, vec![1.0]);
    }
}
