//! Log-spaced latency histograms, HdrHistogram style: a fixed number of buckets per octave, so a
//! 30-cycle hop and a 30 000-cycle hop are both resolved to about 19 % of their value.

use std::collections::BTreeMap;

use host_driver::time::Cycle;
use serde::Serialize;

/// Buckets per doubling of latency.
pub const BUCKETS_PER_OCTAVE: u32 = 4;

/// Samples in `[lo, hi)` cycles. Zero-cycle samples get their own bucket `[0, 1)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Bucket {
    pub lo: Cycle,
    pub hi: Cycle,
    pub count: usize,
}

/// Lower edge of bucket `i` (`i >= 0` covers values >= 1): `ceil(2^(i / BUCKETS_PER_OCTAVE))`.
fn edge(i: i32) -> Cycle {
    2f64.powf(f64::from(i) / f64::from(BUCKETS_PER_OCTAVE))
        .ceil() as Cycle
}

/// Index of the last bucket: its upper edge saturates at `Cycle::MAX`, so it also holds that value.
const LAST: i32 = Cycle::BITS as i32 * BUCKETS_PER_OCTAVE as i32 - 1;

/// The bucket holding `v >= 1`: the `i` with `edge(i) <= v < edge(i + 1)`. The float estimate is
/// corrected against the integer edges so rounding in `log2` cannot misplace a value.
fn index_of(v: Cycle) -> i32 {
    let mut i = ((v as f64).log2() * f64::from(BUCKETS_PER_OCTAVE)).floor() as i32;
    i = i.min(LAST);
    while edge(i) > v {
        i -= 1;
    }
    while i < LAST && edge(i + 1) <= v {
        i += 1;
    }
    i
}

/// Non-empty buckets of `samples`, in increasing latency.
pub fn log_histogram(samples: &[Cycle]) -> Vec<Bucket> {
    let mut counts: BTreeMap<Option<i32>, usize> = BTreeMap::new();
    for &v in samples {
        *counts.entry((v > 0).then(|| index_of(v))).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(i, count)| match i {
            None => Bucket {
                lo: 0,
                hi: 1,
                count,
            },
            Some(i) => Bucket {
                lo: edge(i),
                hi: edge(i + 1),
                count,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_lands_in_the_bucket_that_covers_it() {
        for v in 1..5000u64 {
            let i = index_of(v);
            assert!(edge(i) <= v && v < edge(i + 1), "v={v} i={i}");
        }
        for shift in 0..63 {
            let v = 1u64 << shift;
            let i = index_of(v);
            assert_eq!(
                i,
                shift * BUCKETS_PER_OCTAVE as i32,
                "powers of two open a bucket"
            );
            assert_eq!(edge(i), v);
        }
        assert_eq!(index_of(Cycle::MAX), LAST);
    }

    #[test]
    fn buckets_are_sorted_non_empty_and_count_every_sample() {
        let samples = [0, 0, 1, 2, 3, 3, 100, 101, 1000];
        let h = log_histogram(&samples);
        assert_eq!(
            h[0],
            Bucket {
                lo: 0,
                hi: 1,
                count: 2
            }
        );
        assert_eq!(
            h[1],
            Bucket {
                lo: 1,
                hi: 2,
                count: 1
            }
        );
        assert_eq!(h.iter().map(|b| b.count).sum::<usize>(), samples.len());
        assert!(h.windows(2).all(|w| w[0].hi <= w[1].lo));
        let b100 = h.iter().find(|b| b.lo <= 100 && 100 < b.hi).unwrap();
        assert_eq!((b100.lo, b100.hi, b100.count), (91, 108, 2));
        assert!(log_histogram(&[]).is_empty());
    }
}
