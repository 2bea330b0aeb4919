//! The warehouse's walking order: where a bin comes on a walk through its zone.
//!
//! Bins are addressed zone, aisle, bay, level. A person walks the aisles of a zone one after the
//! other, up the first aisle and down the next (alternating direction, a "snake"), and passes
//! every level of a bay at once. [`walk_order`] turns an address into that rank, so "in walking
//! order" is a plain sort. Pure: the server's master data and the demo use it to fill
//! `Location::walk_order`.

/// How a zone is laid out: bays per aisle and levels per bay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoneShape {
    pub bays: u32,
    pub levels: u32,
}

/// The rank of bin (`aisle`, `bay`, `level`), all counted from 1, on a snake walk through a zone
/// of `shape`, starting at `first`. Odd aisles are walked from bay 1 up, even aisles from the
/// last bay down; levels of a bay are consecutive. Addresses outside the shape are clamped.
pub fn walk_order(first: u32, shape: ZoneShape, aisle: u32, bay: u32, level: u32) -> u32 {
    let bays = shape.bays.max(1);
    let levels = shape.levels.max(1);
    let aisle = aisle.max(1);
    let bay = bay.clamp(1, bays);
    let level = level.clamp(1, levels);
    let along = if aisle % 2 == 1 { bay - 1 } else { bays - bay };
    first + ((aisle - 1) * bays + along) * levels + (level - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snake_walk_case_table() {
        let shape = ZoneShape { bays: 3, levels: 2 };
        // (aisle, bay, level) -> rank from 0
        let cases = [
            ((1, 1, 1), 0),
            ((1, 1, 2), 1),
            ((1, 2, 1), 2),
            ((1, 3, 2), 5),
            // Aisle 2 is walked back: its last bay comes first.
            ((2, 3, 1), 6),
            ((2, 1, 2), 11),
            ((3, 1, 1), 12),
            // Out of the shape: clamped, never a panic.
            ((0, 9, 9), 5),
        ];
        for ((aisle, bay, level), want) in cases {
            assert_eq!(
                walk_order(0, shape, aisle, bay, level),
                want,
                "{aisle}-{bay}-{level}"
            );
        }
        assert_eq!(walk_order(100, shape, 1, 1, 1), 100);
    }

    #[test]
    fn sorting_by_rank_walks_every_bin_once_in_a_snake() {
        let shape = ZoneShape { bays: 4, levels: 3 };
        let mut ranks: Vec<u32> = (1..=5)
            .flat_map(|a| (1..=4).flat_map(move |b| (1..=3).map(move |l| (a, b, l))))
            .map(|(a, b, l)| walk_order(0, shape, a, b, l))
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        assert_eq!(ranks, (0..60).collect::<Vec<_>>());
    }
}
