//! Picking routes: the order in which a picker walks to the bins of a batch, and how far that walk
//! is from the shortest one.
//!
//! # The floor as this module sees it
//!
//! One rectangular block, a zone of [`crate::layout`]: aisles 1..=`aisles` side by side,
//! `aisle_pitch` apart, and along each aisle bay positions 1..=`bays`, `bay_width` apart. Bins on
//! both sides of an aisle share a bay position; levels add no distance. A front cross aisle runs
//! past the front ends of all aisles and a back cross aisle past their back ends, each `bay_width`
//! from the nearest bay: bay `b` lies `b × bay_width` from the front cross aisle, the back cross
//! aisle `(bays + 1) × bay_width`. The picker walks the centre lines, can turn round anywhere and
//! changes aisle only in a cross aisle. Every route starts and ends at the depot, the front end of
//! aisle `depot_aisle`. Distances are whole numbers in a unit the caller picks (decimetres, say),
//! so lengths compare exactly. The shortest way between two places of one aisle is along it;
//! between two aisles it is across plus the nearer way round, through the front cross aisle or
//! through the back one.
//!
//! A route is an order of the batch's stops ([`Route::order`]: indices into the caller's slice,
//! each once). Its length is the walk from the depot through the stops in that order back to the
//! depot, each leg the shortest way ([`Warehouse::walk_length`]): that is how a picker follows a
//! sequence of bins shown one after the other. It can be shorter than the textbook drawing of a
//! heuristic, which sometimes goes round the far end to the next aisle.
//!
//! Input is never refused: a stop outside the shape is clamped into it (aisle into 1..=`aisles`,
//! bay into 1..=`bays`), as [`crate::layout::walk_order`] clamps; a shape of zero aisles or bays
//! counts as one, a dimension above [`MAX_DIMENSION`] as that much, and a depot outside the shape
//! as the nearest aisle. No stops make an empty route of length 0. Nothing here panics.
//!
//! # Routes
//!
//! | function | the picker |
//! | --- | --- |
//! | [`s_shape`] | walks every aisle with a stop end to end, up the first, down the next and so on, skipping aisles without stops (traversal); starts from whichever of the outermost aisles with a stop is nearer the depot |
//! | [`largest_gap`] | walks the leftmost aisle with a stop up and the rightmost down; every aisle between is entered from the back cross aisle and from the front one, each time only as far as its largest gap (between two stops, or a stop and an aisle end) and back |
//! | [`combined`] | visits the aisles with a stop once each, left to right or right to left, each aisle up or down; a dynamic program over the aisles picks the directions of the shortest such walk, which is per aisle the better of traversing it and returning from the side the picker is on |
//! | [`shortest`] | the shortest walk there is (below) |
//!
//! # The exact solver
//!
//! [`shortest`] is the dynamic program of H. D. Ratliff and A. S. Rosenthal, "Order-picking in a
//! rectangular warehouse: a solvable case of the traveling salesman problem", Operations Research
//! 31(3), 1983, pp. 507–521. The floor is a graph: the front end `a_j` and the back end `b_j` of
//! each aisle `j`, the stops' positions in between (the depot counts as a position at the front
//! end of its aisle), edges along each aisle between neighbouring vertices and along the cross
//! aisles between neighbouring `a`s and `b`s. A tour is a multiset of these edges, each used at
//! most twice, that touches every position, is connected and gives every vertex an even degree;
//! an Euler circuit of it is a walk. The program sweeps the aisles from left to right. Once the
//! edges of aisles 1..=`j` and of the cross aisles between them are chosen, three facts about that
//! partial tour decide how it can be completed: the degree of `a_j` (zero, odd or even), the degree
//! of `b_j`, and whether `a_j` and `b_j` lie in one component or in two. A component that touches
//! neither can never be joined again, so it is either the whole tour or not a tour. Seven such
//! classes occur:
//!
//! | class | degree of `a_j` | degree of `b_j` | components |
//! | --- | --- | --- | --- |
//! | (0, 0, 0C) | 0 | 0 | none yet |
//! | (U, U, 1C) | odd | odd | one |
//! | (E, 0, 1C) | even | 0 | one |
//! | (0, E, 1C) | 0 | even | one |
//! | (E, E, 1C) | even | even | one |
//! | (E, E, 2C) | even | even | two, `a_j` in one and `b_j` in the other |
//! | (0, 0, 1C) | - | - | the tour is closed |
//!
//! Six configurations of the edges along aisle `j` suffice (Ratliff and Rosenthal show that an
//! optimal tour uses no other):
//!
//! | configuration | edges along the aisle | adds to `a_j` | adds to `b_j` | joins `a_j` and `b_j` |
//! | --- | --- | --- | --- | --- |
//! | traverse | every edge once | 1 | 1 | yes |
//! | traverse twice | every edge twice | 2 | 2 | yes |
//! | from the back | from `b_j` to the position nearest the front, twice | 0 | 2 | no |
//! | from the front | from `a_j` to the farthest position, twice | 2 | 0 | no |
//! | largest gap | every edge but the longest between two positions, twice | 2 | 2 | no |
//! | nothing | none (only in an aisle without positions) | 0 | 0 | no |
//!
//! Between aisles `j` and `j + 1` the front and the back cross aisle edge are each used 0, 1 or 2
//! times. Then `a_j` and `b_j` leave the sweep: their degrees must be even, an end not in the tour
//! gets no edge (that would be a detour to nothing), and a component that does not go on must be
//! the whole tour, which closes it. For each class the cheapest partial tour is kept; the answer is
//! the cheapest closed tour after the last aisle. Only the aisles from the leftmost to the
//! rightmost with a stop or the depot are swept (going further never shortens a tour), so the work
//! grows with the width of the batch, a few hundred steps per aisle, plus sorting the stops.
//!
//! The order comes from the choices kept: the edges of the cheapest tour are rebuilt, an Euler
//! circuit is walked from the depot, and the stops are listed in the order it first reaches them.
//! Walking that order leg by leg the shortest way is no longer than the circuit, so its length is
//! the optimum.
//!
//! # The order handed out
//!
//! [`sequence`] (through [`plan`]) chooses for each batch. Pickers follow a consistent pattern more
//! readily than an optimal route that looks arbitrary, which is why simple heuristics prevail in
//! practice. So the S-shape route is taken when it is within [`PREFERENCE_MARGIN_PERCENT`] % of the
//! shortest walk; if not, the combined route when within; then the largest-gap route; and otherwise
//! the shortest walk's own order. Every sequence handed out is therefore within that margin of the
//! shortest walk: for every batch by construction, not only on average. The S-shape route is not
//! [`crate::layout::walk_order`]'s snake: that alternates by aisle number, this by the aisles the
//! batch visits.

use std::cmp::Reverse;
use std::iter::{once, repeat_n};

/// The largest number of aisles or bays, and the largest bay width or aisle pitch, a
/// [`Warehouse`] is taken to have; anything above counts as this much. Far beyond any floor, and
/// small enough that no length can overflow.
pub const MAX_DIMENSION: u32 = 65_535;

/// How much longer than the shortest walk, in per cent, a consistent route may be and still be
/// handed out instead of the shortest walk's own order (see the module header).
pub const PREFERENCE_MARGIN_PERCENT: u64 = 5;

/// A rectangular block of parallel aisles between a front and a back cross aisle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Warehouse {
    /// Aisles side by side, numbered from 1 at the left.
    pub aisles: u32,
    /// Bay positions along each aisle, numbered from 1 at the front.
    pub bays: u32,
    /// Distance along an aisle from one bay position to the next, and from each cross aisle to
    /// the nearest bay.
    pub bay_width: u32,
    /// Distance between the centre lines of neighbouring aisles.
    pub aisle_pitch: u32,
    /// The aisle at whose front end every route starts and ends.
    pub depot_aisle: u32,
}

/// A place to pick at: the bay position of a bin (every level of it, either side of the aisle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stop {
    pub aisle: u32,
    pub bay: u32,
}

/// An order of a batch's stops and the length of walking it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    /// Indices into the stops, each once, in walking order.
    pub order: Vec<usize>,
    /// Depot, the stops in this order, depot, each leg the shortest way.
    pub length: u64,
}

/// Which route [`plan`] chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    SShape,
    Combined,
    LargestGap,
    Shortest,
}

impl Warehouse {
    /// The length of walking from the depot through `stops` in `order` and back to the depot,
    /// each leg the shortest way. Indices outside `stops` are skipped.
    pub fn walk_length(&self, stops: &[Stop], order: &[usize]) -> u64 {
        let grid = Grid::new(self);
        grid.walk_length(
            order
                .iter()
                .filter_map(|&i| stops.get(i))
                .map(|&s| grid.point(s)),
        )
    }
}

/// The S-shape (traversal) route: see the module header.
pub fn s_shape(warehouse: &Warehouse, stops: &[Stop]) -> Route {
    let grid = Grid::new(warehouse);
    let mut aisles = grid.aisles_with_stops(stops);
    if let (Some(left), Some(right)) = (aisles.first(), aisles.last())
        && grid.depot.abs_diff(right.aisle) < grid.depot.abs_diff(left.aisle)
    {
        aisles.reverse();
    }
    let order = aisles
        .iter()
        .enumerate()
        .flat_map(|(k, aisle)| aisle.walk(k % 2 == 0))
        .collect();
    grid.route(stops, order)
}

/// The largest-gap route: see the module header.
pub fn largest_gap(warehouse: &Warehouse, stops: &[Stop]) -> Route {
    let grid = Grid::new(warehouse);
    let aisles = grid.aisles_with_stops(stops);
    let [left, middle @ .., right] = aisles.as_slice() else {
        // One aisle (or none): in from the front as far as needed, and back.
        let order = aisles.first().map(|a| a.walk(true)).unwrap_or_default();
        return grid.route(stops, order);
    };
    let splits: Vec<usize> = middle.iter().map(|a| a.largest_gap(grid.back())).collect();
    let from_front = |k: usize| middle[k].stops[..splits[k]].iter().map(|&(_, i)| i);
    let from_back = |k: usize| middle[k].stops[splits[k]..].iter().rev().map(|&(_, i)| i);
    // The loop passes the depot on its way back along the front cross aisle: the aisles left of
    // the depot come first.
    let left_of_depot = middle.iter().take_while(|a| a.aisle < grid.depot).count();
    let mut order = Vec::with_capacity(stops.len());
    order.extend((0..left_of_depot).rev().flat_map(from_front));
    order.extend(left.walk(true));
    order.extend((0..middle.len()).flat_map(from_back));
    order.extend(right.walk(false));
    order.extend((left_of_depot..middle.len()).rev().flat_map(from_front));
    grid.route(stops, order)
}

/// The combined route: see the module header.
pub fn combined(warehouse: &Warehouse, stops: &[Stop]) -> Route {
    let grid = Grid::new(warehouse);
    let aisles = grid.aisles_with_stops(stops);
    let rightwards = grid.sweep(stops, aisles.iter());
    let leftwards = grid.sweep(stops, aisles.iter().rev());
    if leftwards.length < rightwards.length {
        leftwards
    } else {
        rightwards
    }
}

/// The shortest walk through `stops` from the depot back to the depot, by Ratliff and
/// Rosenthal's dynamic program: see the module header.
pub fn shortest(warehouse: &Warehouse, stops: &[Stop]) -> Route {
    let grid = Grid::new(warehouse);
    let span = grid.span(stops);
    match span.tour(grid.pitch) {
        Some(tour) => grid.route(stops, span.order(&tour)),
        // Never taken: the depot's aisle alone closes a tour. The combined route would do.
        None => combined(warehouse, stops),
    }
}

/// One of the functions that route a batch.
type Router = fn(&Warehouse, &[Stop]) -> Route;

/// The route to hand out for a batch and which one it is: the first of S-shape, combined and
/// largest gap within [`PREFERENCE_MARGIN_PERCENT`] % of the shortest walk, or else the shortest
/// walk itself.
pub fn plan(warehouse: &Warehouse, stops: &[Stop]) -> (Strategy, Route) {
    let best = shortest(warehouse, stops);
    let bound = u128::from(best.length) * u128::from(100 + PREFERENCE_MARGIN_PERCENT);
    let consistent: [(Strategy, Router); 3] = [
        (Strategy::SShape, s_shape),
        (Strategy::Combined, combined),
        (Strategy::LargestGap, largest_gap),
    ];
    for (strategy, route) in consistent {
        let route = route(warehouse, stops);
        if u128::from(route.length) * 100 <= bound {
            return (strategy, route);
        }
    }
    (Strategy::Shortest, best)
}

/// The order in which to hand out a batch's pick lines, as indices into `stops`: [`plan`]'s
/// route.
pub fn sequence(warehouse: &Warehouse, stops: &[Stop]) -> Vec<usize> {
    plan(warehouse, stops).1.order
}

/// A [`Warehouse`] with every dimension clamped, lengths in `u64`.
#[derive(Debug, Clone, Copy)]
struct Grid {
    aisles: u32,
    bays: u32,
    bay_width: u64,
    pitch: u64,
    depot: u32,
}

/// A place on the floor: an aisle, and the distance from the front cross aisle along it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Point {
    aisle: u32,
    y: u64,
}

/// The stops of one aisle, nearest the front first: (distance from the front, index).
#[derive(Debug)]
struct AisleStops {
    aisle: u32,
    stops: Vec<(u64, usize)>,
}

impl Grid {
    fn new(warehouse: &Warehouse) -> Grid {
        let aisles = warehouse.aisles.clamp(1, MAX_DIMENSION);
        Grid {
            aisles,
            bays: warehouse.bays.clamp(1, MAX_DIMENSION),
            bay_width: warehouse.bay_width.min(MAX_DIMENSION).into(),
            pitch: warehouse.aisle_pitch.min(MAX_DIMENSION).into(),
            depot: warehouse.depot_aisle.clamp(1, aisles),
        }
    }

    /// Distance from the front cross aisle to the back cross aisle.
    fn back(&self) -> u64 {
        (u64::from(self.bays) + 1) * self.bay_width
    }

    fn depot(&self) -> Point {
        Point {
            aisle: self.depot,
            y: 0,
        }
    }

    fn point(&self, stop: Stop) -> Point {
        Point {
            aisle: stop.aisle.clamp(1, self.aisles),
            y: u64::from(stop.bay.clamp(1, self.bays)) * self.bay_width,
        }
    }

    /// The shortest way from `p` to `q`.
    fn distance(&self, p: Point, q: Point) -> u64 {
        if p.aisle == q.aisle {
            return p.y.abs_diff(q.y);
        }
        let across = u64::from(p.aisle.abs_diff(q.aisle)) * self.pitch;
        let via_front = p.y + q.y;
        let via_back = 2 * self.back() - p.y - q.y;
        across + via_front.min(via_back)
    }

    /// Depot, `points`, depot, each leg the shortest way.
    fn walk_length(&self, points: impl Iterator<Item = Point>) -> u64 {
        let mut at = self.depot();
        let mut length = 0u64;
        for point in points.chain(once(self.depot())) {
            length = length.saturating_add(self.distance(at, point));
            at = point;
        }
        length
    }

    fn route(&self, stops: &[Stop], order: Vec<usize>) -> Route {
        let length = self.walk_length(
            order
                .iter()
                .filter_map(|&i| stops.get(i))
                .map(|&s| self.point(s)),
        );
        Route { order, length }
    }

    /// The aisles that have stops, from the left.
    fn aisles_with_stops(&self, stops: &[Stop]) -> Vec<AisleStops> {
        let mut points: Vec<(Point, usize)> = stops
            .iter()
            .enumerate()
            .map(|(i, &stop)| (self.point(stop), i))
            .collect();
        points.sort_unstable();
        let mut aisles: Vec<AisleStops> = Vec::new();
        for (point, i) in points {
            match aisles.last_mut() {
                Some(aisle) if aisle.aisle == point.aisle => aisle.stops.push((point.y, i)),
                _ => aisles.push(AisleStops {
                    aisle: point.aisle,
                    stops: vec![(point.y, i)],
                }),
            }
        }
        aisles
    }

    /// The shortest walk that visits `aisles` in this order, each up or down: a dynamic program
    /// over the aisles whose state is the direction the last aisle was walked in.
    fn sweep<'a>(&self, stops: &[Stop], aisles: impl Iterator<Item = &'a AisleStops>) -> Route {
        let aisles: Vec<&AisleStops> = aisles.collect();
        // Per direction (0 up, 1 down): the shortest walk so far that walked the last aisle in
        // that direction, and where it ended.
        let mut length = [0u64; 2];
        let mut end = [self.depot(); 2];
        let mut came_from: Vec<[usize; 2]> = Vec::with_capacity(aisles.len());
        for aisle in &aisles {
            let (low, high) = aisle.ends();
            let ways = [(low, high), (high, low)];
            let mut from = [0; 2];
            let mut next = [0; 2];
            for (direction, (entry, _)) in ways.into_iter().enumerate() {
                let via = |before: usize| length[before] + self.distance(end[before], entry);
                from[direction] = usize::from(via(1) < via(0));
                next[direction] = via(from[direction]) + (high.y - low.y);
            }
            length = next;
            end = ways.map(|(_, exit)| exit);
            came_from.push(from);
        }
        let home =
            |direction: usize| length[direction] + self.distance(end[direction], self.depot());
        let mut direction = usize::from(home(1) < home(0));
        let mut directions = vec![0; aisles.len()];
        for (k, from) in came_from.iter().enumerate().rev() {
            directions[k] = direction;
            direction = from[direction];
        }
        let order = aisles
            .iter()
            .zip(directions)
            .flat_map(|(aisle, direction)| aisle.walk(direction == 0))
            .collect();
        self.route(stops, order)
    }

    /// The aisles the exact solver sweeps: from the leftmost to the rightmost with a stop or the
    /// depot.
    fn span(&self, stops: &[Stop]) -> Span {
        let aisles = self.aisles_with_stops(stops);
        let first = aisles
            .first()
            .map_or(self.depot, |a| a.aisle.min(self.depot));
        let last = aisles
            .last()
            .map_or(self.depot, |a| a.aisle.max(self.depot));
        let mut columns: Vec<Column> = (first..=last)
            .map(|_| Column {
                ys: Vec::new(),
                stops: Vec::new(),
                back: self.back(),
            })
            .collect();
        let depot = (self.depot - first) as usize;
        columns[depot].add(0, None);
        for aisle in &aisles {
            for &(y, i) in &aisle.stops {
                columns[(aisle.aisle - first) as usize].add(y, Some(i));
            }
        }
        Span { columns, depot }
    }
}

impl AisleStops {
    /// The stops' indices, up the aisle or down it.
    fn walk(&self, up: bool) -> Vec<usize> {
        let mut order: Vec<usize> = self.stops.iter().map(|&(_, i)| i).collect();
        if !up {
            order.reverse();
        }
        order
    }

    /// The stops nearest the front and farthest from it.
    fn ends(&self) -> (Point, Point) {
        let y = |stop: Option<&(u64, usize)>| stop.map_or(0, |&(y, _)| y);
        let at = |y| Point {
            aisle: self.aisle,
            y,
        };
        (at(y(self.stops.first())), at(y(self.stops.last())))
    }

    /// Where the largest gap of the aisle lies (between two stops, or a stop and an aisle end;
    /// the one nearest the front of equal gaps): the stops before the returned index are reached
    /// from the front, the others from the back.
    fn largest_gap(&self, back: u64) -> usize {
        let ys: Vec<u64> = once(0)
            .chain(self.stops.iter().map(|&(y, _)| y))
            .chain(once(back))
            .collect();
        ys.windows(2)
            .enumerate()
            .max_by_key(|&(k, pair)| (pair[1] - pair[0], Reverse(k)))
            .map_or(0, |(k, _)| k)
    }
}

/// The aisles the exact solver sweeps, and which of them holds the depot.
struct Span {
    columns: Vec<Column>,
    depot: usize,
}

/// One aisle as the exact solver sees it: the distinct positions to visit, nearest the front
/// first, and the stops at each. The depot is a position (with no stops) at the front end of its
/// aisle.
struct Column {
    ys: Vec<u64>,
    stops: Vec<Vec<usize>>,
    back: u64,
}

/// How the edges along one aisle are walked (see the module header). The edges of an aisle are
/// numbered from the front: edge `e` joins vertex `e` and `e + 1` of front end, positions, back
/// end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Config {
    /// Only in an aisle without positions.
    Nothing,
    Traverse,
    TraverseTwice,
    /// Every edge twice but edge `k`: the positions before it are reached from the front, the
    /// others from the back. `Split(0)` is "from the back", `Split(positions)` "from the front",
    /// and in between it leaves out the largest gap.
    Split(usize),
}

/// The degree of an end of the aisle the sweep stands at, in the partial tour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Degree {
    Zero,
    Odd,
    Even,
}

/// Ratliff and Rosenthal's class of a partial tour (see the module header). `linked` says that
/// both ends have edges and lie in one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Open {
        front: Degree,
        back: Degree,
        linked: bool,
    },
    Closed,
}

const NOTHING_YET: Class = Class::Open {
    front: Degree::Zero,
    back: Degree::Zero,
    linked: false,
};

/// The cheapest partial tour found of one class, and the choice that made it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    class: Class,
    length: u64,
    /// Index of the partial tour it extends, in the layer before.
    before: usize,
    step: Step,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Start,
    Along(Config),
    /// How often the front and the back cross aisle edge to the next aisle are walked.
    Across(u8, u8),
}

/// The edges of a shortest tour: per aisle how often each edge along it is walked, and per pair
/// of neighbouring aisles how often the front and the back cross aisle edge between them.
struct Tour {
    along: Vec<Vec<u8>>,
    across: Vec<(u8, u8)>,
}

impl Column {
    fn add(&mut self, y: u64, stop: Option<usize>) {
        if self.ys.last() != Some(&y) {
            self.ys.push(y);
            self.stops.push(Vec::new());
        }
        if let (Some(stop), Some(here)) = (stop, self.stops.last_mut()) {
            here.push(stop);
        }
    }

    /// The configurations worth trying in this aisle.
    fn configs(&self) -> Vec<Config> {
        let positions = self.ys.len();
        if positions == 0 {
            return vec![Config::Nothing, Config::Traverse, Config::TraverseTwice];
        }
        let mut configs = vec![
            Config::Traverse,
            Config::TraverseTwice,
            Config::Split(0),
            Config::Split(positions),
        ];
        if let Some(gap) = (1..positions).max_by_key(|&k| self.ys[k] - self.ys[k - 1]) {
            configs.push(Config::Split(gap));
        }
        configs
    }

    /// How often each edge along the aisle is walked in `config`.
    fn walked(&self, config: Config) -> Vec<u8> {
        let edges = self.ys.len() + 1;
        match config {
            Config::Nothing => vec![0; edges],
            Config::Traverse => vec![1; edges],
            Config::TraverseTwice => vec![2; edges],
            Config::Split(gap) => (0..edges).map(|e| if e == gap { 0 } else { 2 }).collect(),
        }
    }

    /// The length of walking the aisle's edges `walked` times each.
    fn length(&self, walked: &[u8]) -> u64 {
        let ends: Vec<u64> = once(0)
            .chain(self.ys.iter().copied())
            .chain(once(self.back))
            .collect();
        ends.windows(2)
            .zip(walked)
            .map(|(pair, &times)| u64::from(times) * (pair[1] - pair[0]))
            .sum()
    }
}

impl Degree {
    fn of(edges: u8) -> Degree {
        Degree::Zero.plus(edges)
    }

    fn plus(self, edges: u8) -> Degree {
        match (self, edges % 2) {
            _ if edges == 0 => self,
            (Degree::Odd, 1) => Degree::Even,
            (Degree::Odd, _) | (Degree::Zero | Degree::Even, 1) => Degree::Odd,
            (Degree::Zero | Degree::Even, _) => Degree::Even,
        }
    }
}

impl Class {
    /// The class after adding edges along the aisle that touch its front end `front` times and
    /// its back end `back` times, joining the two ends when `joins`.
    fn along(self, front: u8, back: u8, joins: bool) -> Option<Class> {
        match self {
            // Nothing may start once the tour is closed.
            Class::Closed => (front == 0 && back == 0).then_some(Class::Closed),
            Class::Open {
                front: f,
                back: b,
                linked,
            } => {
                let (front, back) = (f.plus(front), b.plus(back));
                let both = front != Degree::Zero && back != Degree::Zero;
                Some(Class::Open {
                    front,
                    back,
                    linked: both && (joins || linked),
                })
            }
        }
    }

    /// The class at the next aisle after walking the front cross aisle edge `front` times and
    /// the back one `back` times; `None` when that cannot be part of a tour.
    fn across(self, front: u8, back: u8) -> Option<Class> {
        let Class::Open {
            front: f,
            back: b,
            linked,
        } = self
        else {
            return (front == 0 && back == 0).then_some(Class::Closed);
        };
        // The ends of this aisle leave the sweep: their degrees are final.
        let odd = f.plus(front) == Degree::Odd || b.plus(back) == Degree::Odd;
        let detour = (f == Degree::Zero && front > 0) || (b == Degree::Zero && back > 0);
        if odd || detour {
            return None;
        }
        let front_goes_on = front > 0 || (linked && back > 0);
        let back_goes_on = back > 0 || (linked && front > 0);
        let ends = (f != Degree::Zero && !front_goes_on) || (b != Degree::Zero && !back_goes_on);
        if ends {
            // A component ends here: it must be the only one, and nothing goes on.
            let one = f == Degree::Zero || b == Degree::Zero || linked;
            return (one && front == 0 && back == 0).then_some(Class::Closed);
        }
        Some(Class::Open {
            front: Degree::of(front),
            back: Degree::of(back),
            linked: linked && front > 0 && back > 0,
        })
    }
}

/// Keeps `entry` in `layer` unless a partial tour of its class is already as short.
fn keep(layer: &mut Vec<Entry>, entry: Entry) {
    match layer.iter_mut().find(|kept| kept.class == entry.class) {
        Some(kept) if kept.length <= entry.length => {}
        Some(kept) => *kept = entry,
        None => layer.push(entry),
    }
}

impl Span {
    /// Ratliff and Rosenthal's sweep; the edges of a shortest tour.
    fn tour(&self, pitch: u64) -> Option<Tour> {
        let start = Entry {
            class: NOTHING_YET,
            length: 0,
            before: 0,
            step: Step::Start,
        };
        let mut layers: Vec<Vec<Entry>> = vec![vec![start]];
        for (k, column) in self.columns.iter().enumerate() {
            if k > 0 {
                let layer = next_layer(&layers, |class| {
                    (0..=2u8)
                        .flat_map(|front| (0..=2u8).map(move |back| (front, back)))
                        .filter_map(|(front, back)| {
                            let length = u64::from(front + back) * pitch;
                            Some((
                                class.across(front, back)?,
                                length,
                                Step::Across(front, back),
                            ))
                        })
                        .collect()
                });
                layers.push(layer);
            }
            // Per configuration: how often it touches the front end and the back end, whether it
            // joins them, and its length.
            let configs: Vec<(Config, u8, u8, bool, u64)> = column
                .configs()
                .into_iter()
                .map(|config| {
                    let walked = column.walked(config);
                    let (front, back) = (walked[0], walked[walked.len() - 1]);
                    let joins = walked.iter().all(|&times| times > 0);
                    (config, front, back, joins, column.length(&walked))
                })
                .collect();
            let layer = next_layer(&layers, |class| {
                configs
                    .iter()
                    .filter_map(|&(config, front, back, joins, length)| {
                        Some((
                            class.along(front, back, joins)?,
                            length,
                            Step::Along(config),
                        ))
                    })
                    .collect()
            });
            layers.push(layer);
        }
        let (mut at, _) = layers
            .last()?
            .iter()
            .enumerate()
            .filter(|(_, entry)| entry.class.across(0, 0) == Some(Class::Closed))
            .min_by_key(|(_, entry)| entry.length)?;
        let mut along = Vec::with_capacity(self.columns.len());
        let mut across = Vec::with_capacity(self.columns.len());
        for layer in layers.iter().rev() {
            let entry = layer.get(at)?;
            match entry.step {
                Step::Along(config) => along.push(config),
                Step::Across(front, back) => across.push((front, back)),
                Step::Start => {}
            }
            at = entry.before;
        }
        along.reverse();
        across.reverse();
        let along = self
            .columns
            .iter()
            .zip(along)
            .map(|(column, config)| column.walked(config))
            .collect();
        Some(Tour { along, across })
    }

    /// The stops in the order an Euler circuit of `tour` from the depot first reaches them.
    fn order(&self, tour: &Tour) -> Vec<usize> {
        // Vertices: per aisle its front end, its positions and its back end.
        let mut stops_at: Vec<&[usize]> = Vec::new();
        let mut ends: Vec<(usize, usize)> = Vec::new();
        let mut edges: Vec<(usize, usize)> = Vec::new();
        let mut start = 0;
        for (k, (column, walked)) in self.columns.iter().zip(&tour.along).enumerate() {
            let front = stops_at.len();
            if k == self.depot {
                // The depot is the first position of its aisle.
                start = front + 1;
            }
            stops_at.push(&[]);
            stops_at.extend(column.stops.iter().map(Vec::as_slice));
            ends.push((front, stops_at.len()));
            stops_at.push(&[]);
            for (e, &times) in walked.iter().enumerate() {
                edges.extend(repeat_n((front + e, front + e + 1), times.into()));
            }
        }
        for (pair, &(front, back)) in ends.windows(2).zip(&tour.across) {
            edges.extend(repeat_n((pair[0].0, pair[1].0), front.into()));
            edges.extend(repeat_n((pair[0].1, pair[1].1), back.into()));
        }
        let mut unwalked: Vec<Vec<(usize, usize)>> = vec![Vec::new(); stops_at.len()];
        for (e, &(u, v)) in edges.iter().enumerate() {
            unwalked[u].push((e, v));
            unwalked[v].push((e, u));
        }
        // Hierholzer: vertices leave the stack in the order of an Euler circuit from `start`.
        let mut walked = vec![false; edges.len()];
        let mut reached = vec![false; stops_at.len()];
        let mut stack = vec![start];
        let mut order = Vec::new();
        while let Some(&vertex) = stack.last() {
            match unwalked[vertex].pop() {
                Some((e, _)) if walked[e] => {}
                Some((e, next)) => {
                    walked[e] = true;
                    stack.push(next);
                }
                None => {
                    stack.pop();
                    if !reached[vertex] {
                        reached[vertex] = true;
                        order.extend_from_slice(stops_at[vertex]);
                    }
                }
            }
        }
        order
    }
}

/// The next layer of the sweep: every way `moves` extends a partial tour of the last layer,
/// the cheapest per class.
fn next_layer(
    layers: &[Vec<Entry>],
    moves: impl Fn(Class) -> Vec<(Class, u64, Step)>,
) -> Vec<Entry> {
    let mut layer = Vec::new();
    for (before, entry) in layers.last().into_iter().flatten().enumerate() {
        for (class, length, step) in moves(entry.class) {
            keep(
                &mut layer,
                Entry {
                    class,
                    length: entry.length + length,
                    before,
                    step,
                },
            );
        }
    }
    layer
}

#[cfg(test)]
mod tests;
