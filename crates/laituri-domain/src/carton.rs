//! Carton suggestion: which shipping boxes an order goes into, computed on the device.
//!
//! The rule is the established volume-based first fit, not a 3D packing: a person packs the box,
//! and needs a box that works, not a diagram.
//!
//! 1. One parcel when one box holds the whole order: the smallest box type (by inner volume,
//!    then id) into which every unit fits by its sorted outer dimensions (rotations allowed),
//!    whose inner volume times its fill rate holds the units' volume and whose maximum weight
//!    holds their weight.
//! 2. Otherwise several parcels, "current container only": the units are taken largest volume
//!    first (then by product id); a parcel opens in the largest box type that fits the first unit
//!    left, takes every unit left that still fits (smaller ones fill the gaps) and is closed for
//!    good, never reopened; the rest, once one box holds it, goes into the smallest that does.
//!    Each parcel then gets the smallest box type that holds what it took.
//! 3. Boxes that are not absurdly uneven: with the number of parcels the greedy pass needs,
//!    the units are packed again with each parcel capped at an even share of the order's volume
//!    and weight (a little more when the shares do not come out even); the even plan is taken
//!    when it needs no more parcels than the greedy one.
//! 4. A unit that fits no box type at all (longer than every box, heavier than every box may
//!    hold, or bulkier than any fill rate allows) ships in a parcel of its own without a box,
//!    and the plan says why ([`NoBox`]). Without usable box types the whole order is one parcel
//!    without a box ([`NoBox::NoBoxTypes`]).
//!
//! Unknown master data is never invented: a unit without dimensions is measured by its volume;
//! a unit with neither takes no room in the plan and its product is listed in
//! [`Plan::unknown_size`]; a unit without a weight weighs nothing in it and is listed in
//! [`Plan::unknown_weight`]. Either makes the plan uncertain ([`Plan::is_uncertain`]). Master
//! data stores 0 for "not measured", so a 0 dimension, volume or weight counts as unknown.
//!
//! Units and conventions: millimetres, millilitres (1 ml = 1,000 mm³), grams. A box type's
//! `max_weight_g` bounds its contents (the net weight); 0 means no limit is known. Its
//! `fill_pct` is how much of its inner volume goods may take (the rest is padding), at most
//! 100; a box type with a 0 inner dimension or a 0 fill rate is not usable. The plan is
//! deterministic: ties are broken by id. This module does no I/O.

/// One line of an order as the suggestion sees it: a product, how many, and one unit's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub product_id: String,
    /// Units; a line of 0 or less takes no room.
    pub quantity: i64,
    /// One unit's outer dimensions in millimetres, in any order.
    pub dims_mm: Option<[u32; 3]>,
    /// One unit's volume in millilitres; used when the dimensions are unknown.
    pub volume_ml: Option<u32>,
    /// One unit's weight in grams.
    pub weight_g: Option<u32>,
}

/// A shipping box type of the warehouse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxSpec {
    pub id: String,
    /// Inner dimensions in millimetres, in any order.
    pub inner_mm: [u32; 3],
    /// The most its contents may weigh; 0 = no limit known.
    pub max_weight_g: u32,
    /// Per cent of the inner volume goods may take, e.g. 80.
    pub fill_pct: u8,
    /// The empty box's weight.
    pub tare_g: u32,
}

impl BoxSpec {
    /// Its inner volume in millilitres (rounded down).
    pub fn inner_volume_ml(&self) -> u64 {
        volume_mm3(self.inner_mm) / 1000
    }
}

/// Why a parcel of the plan has no box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoBox {
    /// The warehouse has no usable box types: the packer chooses one.
    NoBoxTypes,
    /// The unit is longer, wider or higher than the inside of every box type.
    TooLarge,
    /// The unit weighs more than any box type may hold.
    TooHeavy,
    /// The unit takes more room than any box type's fill rate allows.
    TooBulky,
}

/// One parcel of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelPlan {
    /// The box type to pack it in; `None` = ships without a box, see `no_box`.
    pub box_id: Option<String>,
    /// Why it has no box, when it has none.
    pub no_box: Option<NoBox>,
    /// `(product_id, units)`, in the order to pack them: largest first.
    pub items: Vec<(String, i64)>,
    /// The units' volume, rounded up (units of unknown size count 0).
    pub volume_ml: u64,
    /// The units' weight plus the box's tare (units of unknown weight count 0).
    pub weight_g: u64,
}

/// The suggestion for an order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Boxed parcels first, then the units that ship without a box.
    pub parcels: Vec<ParcelPlan>,
    /// Products whose size is not known: they took no room in the plan (sorted, each once).
    pub unknown_size: Vec<String>,
    /// Products whose weight is not known: they weighed nothing in the plan.
    pub unknown_weight: Vec<String>,
}

impl Plan {
    /// True when the plan rests on missing master data: the packer should not trust it blindly.
    pub fn is_uncertain(&self) -> bool {
        !self.unknown_size.is_empty() || !self.unknown_weight.is_empty()
    }

    /// The suggested parcel by its number (from 1), if the plan has that many.
    pub fn parcel(&self, number: u32) -> Option<&ParcelPlan> {
        let i = usize::try_from(number).ok()?.checked_sub(1)?;
        self.parcels.get(i)
    }
}

/// The boxes to ship `items` in, from the warehouse's box types `boxes`.
pub fn suggest(items: &[Item], boxes: &[BoxSpec]) -> Plan {
    let mut lines: Vec<Line> = items
        .iter()
        .filter(|i| i.quantity > 0)
        .map(Line::of)
        .collect();
    lines.sort_by(|a, b| {
        b.volume
            .cmp(&a.volume)
            .then_with(|| a.product.cmp(&b.product))
            .then_with(|| b.weight.cmp(&a.weight))
    });
    let mut plan = Plan {
        parcels: Vec::new(),
        unknown_size: flagged(&lines, |l| l.size_unknown),
        unknown_weight: flagged(&lines, |l| l.weight_unknown),
    };
    if lines.is_empty() {
        return plan;
    }
    let mut usable: Vec<Usable> = boxes.iter().filter_map(Usable::of).collect();
    usable.sort_by(|a, b| a.volume.cmp(&b.volume).then_with(|| a.id.cmp(&b.id)));
    if usable.is_empty() {
        let all: Vec<(usize, i64)> = (0..lines.len()).map(|i| (i, lines[i].quantity)).collect();
        plan.parcels
            .push(unboxed(&lines, &all, Some(NoBox::NoBoxTypes)));
        return plan;
    }
    // Units that fit no box at all ship on their own.
    let mut alone: Vec<(usize, NoBox)> = Vec::new();
    let mut boxable: Vec<Line> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match why_no_box(&usable, line) {
            Some(why) => alone.push((i, why)),
            None => boxable.push(line.clone()),
        }
    }
    let greedy = fill(&boxable, &usable, None);
    let chosen = if greedy.len() > 1 {
        even(&boxable, &usable, greedy.len()).unwrap_or(greedy)
    } else {
        greedy
    };
    for pack in &chosen {
        plan.parcels
            .push(boxed(&boxable, &usable[pack.box_index], pack));
    }
    for (i, why) in alone {
        for _ in 0..lines[i].quantity {
            plan.parcels.push(unboxed(&lines, &[(i, 1)], Some(why)));
        }
    }
    plan
}

/// A line with its unit's measures in the plan's terms.
#[derive(Debug, Clone)]
struct Line {
    product: String,
    quantity: i64,
    /// Sorted ascending.
    dims: Option<[u32; 3]>,
    /// mm³ of one unit; 0 when unknown.
    volume: u64,
    /// Grams of one unit; 0 when unknown.
    weight: u64,
    size_unknown: bool,
    weight_unknown: bool,
}

impl Line {
    fn of(item: &Item) -> Line {
        let dims = item
            .dims_mm
            .filter(|d| d.iter().all(|&x| x > 0))
            .map(sorted);
        let volume_ml = item.volume_ml.filter(|&v| v > 0);
        let volume = match (dims, volume_ml) {
            (Some(d), _) => volume_mm3(d),
            (None, Some(ml)) => u64::from(ml) * 1000,
            (None, None) => 0,
        };
        let weight = item.weight_g.filter(|&w| w > 0);
        Line {
            product: item.product_id.clone(),
            quantity: item.quantity,
            dims,
            volume,
            weight: weight.map_or(0, u64::from),
            size_unknown: dims.is_none() && volume_ml.is_none(),
            weight_unknown: weight.is_none(),
        }
    }

    fn volume_of(&self, units: i64) -> u64 {
        self.volume.saturating_mul(units as u64)
    }

    fn weight_of(&self, units: i64) -> u64 {
        self.weight.saturating_mul(units as u64)
    }
}

/// A box type as the plan uses it.
#[derive(Debug, Clone)]
struct Usable {
    id: String,
    /// Sorted ascending.
    inner: [u32; 3],
    /// Inner mm³.
    volume: u64,
    /// mm³ goods may take.
    room: u64,
    /// Grams its contents may weigh.
    max_weight: u64,
    tare: u64,
}

impl Usable {
    fn of(spec: &BoxSpec) -> Option<Usable> {
        let fill = u64::from(spec.fill_pct.min(100));
        if fill == 0 || spec.inner_mm.contains(&0) {
            return None;
        }
        let volume = volume_mm3(spec.inner_mm);
        Some(Usable {
            id: spec.id.clone(),
            inner: sorted(spec.inner_mm),
            volume,
            room: volume / 100 * fill + volume % 100 * fill / 100,
            max_weight: match spec.max_weight_g {
                0 => u64::MAX,
                w => u64::from(w),
            },
            tare: u64::from(spec.tare_g),
        })
    }

    /// True when a unit of the line goes through the box's inside, turned as needed.
    fn takes_shape(&self, line: &Line) -> bool {
        line.dims
            .is_none_or(|d| d.iter().zip(self.inner).all(|(&x, y)| x <= y))
    }

    /// True when the box holds one unit of the line.
    fn fits_unit(&self, line: &Line) -> bool {
        self.takes_shape(line) && line.volume <= self.room && line.weight <= self.max_weight
    }

    /// True when the box holds these units of these lines.
    fn holds(&self, lines: &[Line], units: impl Iterator<Item = (usize, i64)>) -> bool {
        let (mut volume, mut weight) = (0u64, 0u64);
        for (i, n) in units {
            if n <= 0 {
                continue;
            }
            if !self.takes_shape(&lines[i]) {
                return false;
            }
            volume = volume.saturating_add(lines[i].volume_of(n));
            weight = weight.saturating_add(lines[i].weight_of(n));
        }
        volume <= self.room && weight <= self.max_weight
    }
}

/// One parcel while planning: a box type and what went into it.
#[derive(Debug, Clone)]
struct Pack {
    box_index: usize,
    /// `(line, units)` in the order they went in.
    units: Vec<(usize, i64)>,
}

/// Why a unit of `line` fits no box type, if it fits none.
fn why_no_box(boxes: &[Usable], line: &Line) -> Option<NoBox> {
    if boxes.iter().any(|b| b.fits_unit(line)) {
        return None;
    }
    let shaped: Vec<&Usable> = boxes.iter().filter(|b| b.takes_shape(line)).collect();
    Some(if shaped.is_empty() {
        NoBox::TooLarge
    } else if shaped.iter().all(|b| line.weight > b.max_weight) {
        NoBox::TooHeavy
    } else {
        NoBox::TooBulky
    })
}

/// Packs every unit of `lines` (each of which fits some box) "current container only".
/// `cap`: at most this much volume (mm³) and weight (g) per parcel, except its first unit.
fn fill(lines: &[Line], boxes: &[Usable], cap: Option<(u64, u64)>) -> Vec<Pack> {
    let mut left: Vec<i64> = lines.iter().map(|l| l.quantity).collect();
    let mut packs = Vec::new();
    while let Some(first) = left.iter().position(|&n| n > 0) {
        let rest = || left.iter().copied().enumerate();
        // The rest in one box when one holds it: the smallest.
        if let Some(b) = boxes.iter().position(|b| b.holds(lines, rest())) {
            packs.push(Pack {
                box_index: b,
                units: rest().filter(|&(_, n)| n > 0).collect(),
            });
            break;
        }
        // Else the largest box the first unit left fits.
        let b = (0..boxes.len())
            .rev()
            .find(|&b| boxes[b].fits_unit(&lines[first]))
            .expect("every line given to fill fits some box");
        let shell = &boxes[b];
        let (mut volume, mut weight) = (0u64, 0u64);
        let mut units: Vec<(usize, i64)> = Vec::new();
        for i in first..lines.len() {
            let line = &lines[i];
            if left[i] == 0 || !shell.takes_shape(line) {
                continue;
            }
            let mut n = left[i]
                .min(how_many(shell.room, volume, line.volume))
                .min(how_many(shell.max_weight, weight, line.weight));
            if let Some((cap_volume, cap_weight)) = cap {
                let within = how_many(cap_volume, volume, line.volume).min(how_many(
                    cap_weight,
                    weight,
                    line.weight,
                ));
                n = n.min(if units.is_empty() {
                    within.max(1)
                } else {
                    within
                });
            }
            if n > 0 {
                left[i] -= n;
                volume = volume.saturating_add(line.volume_of(n));
                weight = weight.saturating_add(line.weight_of(n));
                units.push((i, n));
            }
        }
        // The smallest box that holds what it took.
        let box_index = boxes
            .iter()
            .position(|b| b.holds(lines, units.iter().copied()))
            .unwrap_or(b);
        packs.push(Pack { box_index, units });
    }
    packs
}

/// Units of `each` that still fit below `limit` when `used` is taken.
fn how_many(limit: u64, used: u64, each: u64) -> i64 {
    if each == 0 {
        return i64::MAX;
    }
    i64::try_from(limit.saturating_sub(used) / each).unwrap_or(i64::MAX)
}

/// The same units in `parcels` parcels of about even volume and weight, if that many do.
fn even(lines: &[Line], boxes: &[Usable], parcels: usize) -> Option<Vec<Pack>> {
    let n = parcels as u64;
    let total = |of: fn(&Line, i64) -> u64| {
        lines
            .iter()
            .fold(0u64, |sum, l| sum.saturating_add(of(l, l.quantity)))
    };
    let (volume, weight) = (total(Line::volume_of), total(Line::weight_of));
    // A share of nothing known caps nothing.
    let share = |total: u64, pct: u64| match total {
        0 => u64::MAX,
        t => (t / n)
            .saturating_mul(pct)
            .saturating_add(t % n * pct / n)
            .div_ceil(100)
            .max(1),
    };
    [100, 110, 125, 150].into_iter().find_map(|pct| {
        let packs = fill(lines, boxes, Some((share(volume, pct), share(weight, pct))));
        (packs.len() <= parcels).then_some(packs)
    })
}

fn boxed(lines: &[Line], shell: &Usable, pack: &Pack) -> ParcelPlan {
    let mut parcel = unboxed(lines, &pack.units, None);
    parcel.box_id = Some(shell.id.clone());
    parcel.weight_g = parcel.weight_g.saturating_add(shell.tare);
    parcel
}

/// A parcel of these units without a box.
fn unboxed(lines: &[Line], units: &[(usize, i64)], why: Option<NoBox>) -> ParcelPlan {
    let mut items: Vec<(String, i64)> = Vec::new();
    let (mut volume, mut weight) = (0u64, 0u64);
    for &(i, n) in units {
        let line = &lines[i];
        volume = volume.saturating_add(line.volume_of(n));
        weight = weight.saturating_add(line.weight_of(n));
        match items.iter_mut().find(|(p, _)| *p == line.product) {
            Some((_, total)) => *total = total.saturating_add(n),
            None => items.push((line.product.clone(), n)),
        }
    }
    ParcelPlan {
        box_id: None,
        no_box: why,
        items,
        volume_ml: volume.div_ceil(1000),
        weight_g: weight,
    }
}

fn flagged(lines: &[Line], unknown: impl Fn(&Line) -> bool) -> Vec<String> {
    let mut products: Vec<String> = lines
        .iter()
        .filter(|l| unknown(l))
        .map(|l| l.product.clone())
        .collect();
    products.sort();
    products.dedup();
    products
}

fn sorted(mut dims: [u32; 3]) -> [u32; 3] {
    dims.sort_unstable();
    dims
}

fn volume_mm3(dims: [u32; 3]) -> u64 {
    dims.iter()
        .fold(1u64, |v, &d| v.saturating_mul(u64::from(d)))
}

#[cfg(test)]
mod tests;
