use super::*;

/// xorshift64: the same random instances on every run, no dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n.max(1))) as u32
    }
}

fn warehouse(
    aisles: u32,
    bays: u32,
    bay_width: u32,
    aisle_pitch: u32,
    depot_aisle: u32,
) -> Warehouse {
    Warehouse {
        aisles,
        bays,
        bay_width,
        aisle_pitch,
        depot_aisle,
    }
}

fn stops(list: &[(u32, u32)]) -> Vec<Stop> {
    list.iter()
        .map(|&(aisle, bay)| Stop { aisle, bay })
        .collect()
}

/// The floor as a plain graph (every bay position of every aisle, the aisle ends, the cross
/// aisles) with all shortest distances by Floyd and Warshall: a yardstick that shares nothing
/// with the code under test.
struct Floor {
    w: Warehouse,
    distance: Vec<Vec<u64>>,
}

impl Floor {
    fn new(w: Warehouse) -> Floor {
        let per_aisle = w.bays as usize + 2;
        let n = w.aisles as usize * per_aisle;
        let node = |aisle: u32, position: u32| (aisle as usize - 1) * per_aisle + position as usize;
        let mut distance = vec![vec![u64::MAX / 4; n]; n];
        let mut edge = |u: usize, v: usize, length: u64| {
            distance[u][v] = distance[u][v].min(length);
            distance[v][u] = distance[v][u].min(length);
        };
        for aisle in 1..=w.aisles {
            for position in 0..=w.bays {
                edge(
                    node(aisle, position),
                    node(aisle, position + 1),
                    w.bay_width.into(),
                );
            }
            if aisle < w.aisles {
                for position in [0, w.bays + 1] {
                    edge(
                        node(aisle, position),
                        node(aisle + 1, position),
                        w.aisle_pitch.into(),
                    );
                }
            }
        }
        for (i, row) in distance.iter_mut().enumerate() {
            row[i] = 0;
        }
        for k in 0..n {
            for i in 0..n {
                for j in 0..n {
                    let via = distance[i][k] + distance[k][j];
                    if via < distance[i][j] {
                        distance[i][j] = via;
                    }
                }
            }
        }
        Floor { w, distance }
    }

    fn node(&self, aisle: u32, position: u32) -> usize {
        (aisle as usize - 1) * (self.w.bays as usize + 2) + position as usize
    }

    fn stop(&self, stop: Stop) -> usize {
        self.node(
            stop.aisle.clamp(1, self.w.aisles),
            stop.bay.clamp(1, self.w.bays),
        )
    }

    /// The shortest walk from the depot through every stop and back, by Held and Karp's dynamic
    /// program over the subsets of distinct places.
    fn shortest_walk(&self, stops: &[Stop]) -> u64 {
        let depot = self.node(self.w.depot_aisle, 0);
        let mut places: Vec<usize> = stops.iter().map(|&s| self.stop(s)).collect();
        places.sort_unstable();
        places.dedup();
        let n = places.len();
        if n == 0 {
            return 0;
        }
        let d = &self.distance;
        let mut best = vec![vec![u64::MAX; n]; 1 << n];
        for (i, &place) in places.iter().enumerate() {
            best[1 << i][i] = d[depot][place];
        }
        for set in 1..1usize << n {
            for last in 0..n {
                let so_far = best[set][last];
                if so_far == u64::MAX {
                    continue;
                }
                for next in (0..n).filter(|next| set & 1 << next == 0) {
                    let length = so_far + d[places[last]][places[next]];
                    let slot = &mut best[set | 1 << next][next];
                    *slot = (*slot).min(length);
                }
            }
        }
        (0..n)
            .map(|last| best[(1 << n) - 1][last] + d[places[last]][depot])
            .min()
            .unwrap_or(0)
    }
}

fn random_stops(rng: &mut Rng, w: &Warehouse, most: u32) -> Vec<Stop> {
    (0..rng.below(most + 1))
        .map(|_| Stop {
            // Now and then one out of the shape, to be clamped.
            aisle: rng.below(w.aisles + 2),
            bay: rng.below(w.bays + 2),
        })
        .collect()
}

fn random_shapes(rng: &mut Rng, count: usize) -> Vec<Warehouse> {
    (0..count)
        .map(|_| {
            let aisles = 1 + rng.below(6);
            warehouse(
                aisles,
                1 + rng.below(8),
                rng.below(4),
                rng.below(6),
                1 + rng.below(aisles),
            )
        })
        .collect()
}

fn assert_permutation(order: &[usize], n: usize, what: &str) {
    let mut sorted = order.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..n).collect::<Vec<_>>(), "{what}: {order:?}");
}

/// The length of the edges the sweep chose.
fn tour_length(span: &Span, tour: &Tour, pitch: u64) -> u64 {
    let along: u64 = span
        .columns
        .iter()
        .zip(&tour.along)
        .map(|(column, walked)| column.length(walked))
        .sum();
    let across: u64 = tour
        .across
        .iter()
        .map(|&(front, back)| u64::from(front + back) * pitch)
        .sum();
    along + across
}

#[test]
fn distances_case_table() {
    // Four aisles of ten bays, a bay 1 apart, aisles 3 apart: the back cross aisle lies at 11.
    let grid = Grid::new(&warehouse(4, 10, 1, 3, 1));
    let at = |aisle, y| Point { aisle, y };
    let cases = [
        ((1, 3), (1, 7), 4),
        // Either way round is 11 along the aisles.
        ((1, 3), (2, 8), 3 + 11),
        // Round the front: 2 + 5.
        ((2, 2), (4, 5), 6 + 7),
        // Round the back: 2 + 1.
        ((2, 9), (4, 10), 6 + 3),
        // From the depot.
        ((1, 0), (3, 6), 6 + 6),
    ];
    for ((a1, y1), (a2, y2), want) in cases {
        assert_eq!(
            grid.distance(at(a1, y1), at(a2, y2)),
            want,
            "{a1}-{y1} to {a2}-{y2}"
        );
        assert_eq!(
            grid.distance(at(a2, y2), at(a1, y1)),
            want,
            "{a2}-{y2} to {a1}-{y1}"
        );
    }
}

#[test]
fn the_distance_is_the_shortest_way_through_the_aisles() {
    let mut rng = Rng(0x5eed_0001);
    for w in random_shapes(&mut rng, 40) {
        let floor = Floor::new(w);
        let grid = Grid::new(&w);
        let places: Vec<Stop> = (1..=w.aisles)
            .flat_map(|aisle| (1..=w.bays).map(move |bay| Stop { aisle, bay }))
            .collect();
        for &p in &places {
            let depot = floor.node(w.depot_aisle, 0);
            assert_eq!(
                grid.distance(grid.depot(), grid.point(p)),
                floor.distance[depot][floor.stop(p)]
            );
            for &q in &places {
                let want = floor.distance[floor.stop(p)][floor.stop(q)];
                assert_eq!(
                    grid.distance(grid.point(p), grid.point(q)),
                    want,
                    "{w:?} {p:?} {q:?}"
                );
            }
        }
    }
}

#[test]
fn routes_case_table() {
    // Back cross aisle at 11, aisles 3 apart, depot at the front of aisle 1.
    let w = warehouse(4, 10, 1, 3, 1);
    let batch = stops(&[(1, 3), (2, 8), (2, 2), (4, 5)]);
    // S-shape: aisle 1 up, 2 down, 4 up; 3 + 14 + 6 + 13 + 14.
    // Largest gap: aisle 2's largest gap lies between bays 2 and 8, so bay 8 is picked from the
    // back on the way out and bay 2 from the front on the way home; 3 + 14 + 15 + 13 + 5.
    // Combined: aisle 1 up, 2 up, 4 either way: 3 + 8 + 6 + 15 + 14.
    let cases: [(&str, Router, &[usize], u64); 3] = [
        ("s-shape", s_shape, &[0, 1, 2, 3], 50),
        ("largest gap", largest_gap, &[0, 1, 3, 2], 50),
        ("combined", combined, &[0, 2, 1, 3], 46),
    ];
    for (name, route, order, length) in cases {
        let got = route(&w, &batch);
        assert_eq!(
            (got.order.as_slice(), got.length),
            (order, length),
            "{name}"
        );
    }
    // Nothing is shorter than the combined route here (the shortest walk's own order may run the
    // other way round), and the S-shape route is 9 % longer: the combined one is handed out.
    assert_eq!(shortest(&w, &batch).length, 46);
    assert_eq!(plan(&w, &batch).0, Strategy::Combined);
    assert_eq!(sequence(&w, &batch), vec![0, 2, 1, 3]);
}

#[test]
fn routes_from_a_depot_in_the_middle() {
    // Depot at the front of aisle 3 of 5.
    let w = warehouse(5, 10, 1, 3, 3);
    let batch = stops(&[(1, 5), (2, 9), (4, 2), (5, 6), (2, 1)]);
    // S-shape starts at the nearer end: aisle 1 is two aisles away, aisle 5 two too, so from the
    // left.
    assert_eq!(s_shape(&w, &batch).order, vec![0, 1, 4, 2, 3]);
    // Largest gap: aisles 2 and 4 in between; aisle 2's bay 1 and aisle 4's bay 2 are reached
    // from the front, aisle 2's bay 9 from the back. Aisle 2 lies left of the depot: its front
    // part comes first.
    assert_eq!(largest_gap(&w, &batch).order, vec![4, 0, 1, 3, 2]);
    let best = shortest(&w, &batch);
    for route in [
        s_shape(&w, &batch),
        largest_gap(&w, &batch),
        combined(&w, &batch),
    ] {
        assert!(route.length >= best.length);
    }
}

#[test]
fn the_shortest_walk_is_exact_against_brute_force() {
    let mut rng = Rng(0x5eed_0002);
    let mut instances = 0;
    for w in random_shapes(&mut rng, 60) {
        let floor = Floor::new(w);
        let grid = Grid::new(&w);
        for _ in 0..60 {
            let batch = random_stops(&mut rng, &w, 8);
            let want = floor.shortest_walk(&batch);
            let span = grid.span(&batch);
            let Some(tour) = span.tour(grid.pitch) else {
                panic!("no tour for {w:?} {batch:?}");
            };
            assert_eq!(
                tour_length(&span, &tour, grid.pitch),
                want,
                "{w:?} {batch:?}"
            );
            let route = shortest(&w, &batch);
            assert_eq!(route.length, want, "{w:?} {batch:?}");
            assert_eq!(w.walk_length(&batch, &route.order), want);
            assert_permutation(&route.order, batch.len(), "shortest");
            instances += 1;
        }
    }
    assert_eq!(instances, 3600);
}

#[test]
fn heuristic_routes_visit_every_stop_and_report_their_walk() {
    let mut rng = Rng(0x5eed_0003);
    for w in random_shapes(&mut rng, 60) {
        for _ in 0..60 {
            let batch = random_stops(&mut rng, &w, 12);
            let best = shortest(&w, &batch).length;
            let (strategy, planned) = plan(&w, &batch);
            let routes = [
                ("s-shape", s_shape(&w, &batch)),
                ("largest gap", largest_gap(&w, &batch)),
                ("combined", combined(&w, &batch)),
                ("plan", planned.clone()),
            ];
            for (name, route) in &routes {
                assert_permutation(&route.order, batch.len(), name);
                assert_eq!(route.length, w.walk_length(&batch, &route.order), "{name}");
                assert!(route.length >= best, "{name} {w:?} {batch:?}");
            }
            // S-shape is one of the walks the combined route chooses from.
            assert!(routes[2].1.length <= routes[0].1.length, "{w:?} {batch:?}");
            assert!(planned.length * 100 <= best * (100 + PREFERENCE_MARGIN_PERCENT));
            assert_eq!(sequence(&w, &batch), planned.order, "{strategy:?}");
        }
    }
}

#[test]
fn the_combined_route_is_the_shortest_single_sweep() {
    // Every walk that visits the aisles with stops once each, left to right or right to left,
    // each aisle up or down: the combined route is the shortest of them.
    let mut rng = Rng(0x5eed_0004);
    for w in random_shapes(&mut rng, 40) {
        for _ in 0..40 {
            let batch = random_stops(&mut rng, &w, 10);
            let grid = Grid::new(&w);
            let aisles = grid.aisles_with_stops(&batch);
            let mut best = u64::MAX;
            for leftwards in [false, true] {
                let sweep: Vec<&AisleStops> = if leftwards {
                    aisles.iter().rev().collect()
                } else {
                    aisles.iter().collect()
                };
                for directions in 0..1u32 << sweep.len() {
                    let order: Vec<usize> = sweep
                        .iter()
                        .enumerate()
                        .flat_map(|(k, aisle)| aisle.walk(directions & 1 << k == 0))
                        .collect();
                    best = best.min(w.walk_length(&batch, &order));
                }
            }
            assert_eq!(combined(&w, &batch).length, best, "{w:?} {batch:?}");
        }
    }
}

#[test]
fn plan_prefers_the_consistent_route() {
    let wide = warehouse(6, 20, 1, 4, 1);
    let cases = [
        // One aisle: every route is the same walk.
        (wide, stops(&[(1, 4), (1, 9)]), Strategy::SShape),
        // Four aisles with stops in the middle: walking each end to end is the shortest.
        (
            wide,
            stops(&[
                (1, 8),
                (1, 12),
                (2, 7),
                (2, 13),
                (3, 9),
                (3, 11),
                (4, 6),
                (4, 14),
            ]),
            Strategy::SShape,
        ),
        // The batch of the routes' case table.
        (
            warehouse(4, 10, 1, 3, 1),
            stops(&[(1, 3), (2, 8), (2, 2), (4, 5)]),
            Strategy::Combined,
        ),
        // Every heuristic walks 102, the shortest walk 88.
        (
            wide,
            stops(&[(1, 3), (6, 18), (2, 11), (1, 15)]),
            Strategy::Shortest,
        ),
    ];
    for (w, batch, want) in cases {
        let (strategy, route) = plan(&w, &batch);
        assert_eq!(strategy, want, "{batch:?}");
        let best = shortest(&w, &batch).length;
        assert!(route.length * 100 <= best * (100 + PREFERENCE_MARGIN_PERCENT));
    }
}

#[test]
fn transitions_case_table() {
    use Degree::{Even as E, Odd as U, Zero as O};
    // The classes in Ratliff and Rosenthal's notation.
    let open = |front, back, linked| Class::Open {
        front,
        back,
        linked,
    };
    let (none, uu1, e01, o_e1) = (
        NOTHING_YET,
        open(U, U, true),
        open(E, O, false),
        open(O, E, false),
    );
    let (ee1, ee2, closed) = (open(E, E, true), open(E, E, false), Class::Closed);
    // Along an aisle: (class, adds to the front end, to the back end, joins them) -> class.
    let along = [
        (none, 1, 1, true, Some(uu1)),
        (none, 2, 0, false, Some(e01)),
        (none, 0, 2, false, Some(o_e1)),
        (none, 2, 2, false, Some(ee2)),
        (ee2, 1, 1, true, Some(uu1)),
        (ee2, 2, 2, false, Some(ee2)),
        (ee2, 2, 2, true, Some(ee1)),
        (uu1, 2, 0, false, Some(uu1)),
        (e01, 0, 2, false, Some(ee2)),
        (e01, 1, 1, true, Some(uu1)),
        (closed, 0, 0, false, Some(closed)),
        // Nothing may start after the tour is closed.
        (closed, 2, 0, false, None),
    ];
    for (class, front, back, joins, want) in along {
        let got = class.along(front, back, joins);
        assert_eq!(got, want, "{class:?} + {front} {back} {joins}");
    }
    // Across to the next aisle: (class, front edge, back edge) -> class.
    let across = [
        (uu1, 1, 1, Some(uu1)),
        // An end left with an odd degree.
        (uu1, 1, 0, None),
        (uu1, 0, 0, None),
        (ee1, 2, 0, Some(e01)),
        (ee1, 0, 0, Some(closed)),
        (ee2, 2, 2, Some(ee2)),
        // One component left behind while the other goes on.
        (ee2, 2, 0, None),
        (ee2, 0, 0, None),
        (e01, 0, 0, Some(closed)),
        (e01, 2, 0, Some(e01)),
        // A detour to a back end the tour does not touch.
        (e01, 2, 2, None),
        (none, 0, 0, Some(none)),
        (closed, 0, 0, Some(closed)),
        (closed, 1, 1, None),
    ];
    for (class, front, back, want) in across {
        let got = class.across(front, back);
        assert_eq!(got, want, "{class:?} across {front} {back}");
    }
}

#[test]
fn exactly_ratliff_and_rosenthals_seven_classes_occur() {
    use Degree::{Even as E, Odd as U, Zero as O};
    // Every class reachable from "nothing yet" through any aisle configuration and any cross
    // aisle edges.
    let column = |ys: Vec<u64>| Column {
        stops: vec![Vec::new(); ys.len()],
        ys,
        back: 10,
    };
    let columns = [
        column(vec![]),
        column(vec![4]),
        column(vec![2, 7]),
        column(vec![1, 5, 8]),
    ];
    let mut seen = vec![NOTHING_YET];
    let mut k = 0;
    while let Some(&class) = seen.get(k) {
        let mut next: Vec<Class> = (0..=2)
            .flat_map(|front| (0..=2).map(move |back| (front, back)))
            .filter_map(|(front, back)| class.across(front, back))
            .collect();
        for column in &columns {
            for config in column.configs() {
                let walked = column.walked(config);
                let joins = walked.iter().all(|&times| times > 0);
                next.extend(class.along(walked[0], walked[walked.len() - 1], joins));
            }
        }
        for class in next {
            if !seen.contains(&class) {
                seen.push(class);
            }
        }
        k += 1;
    }
    let open = |front, back, linked| Class::Open {
        front,
        back,
        linked,
    };
    let seven = [
        open(O, O, false),
        open(U, U, true),
        open(E, O, false),
        open(O, E, false),
        open(E, E, true),
        open(E, E, false),
        Class::Closed,
    ];
    assert_eq!(seen.len(), seven.len(), "{seen:?}");
    for class in seven {
        assert!(seen.contains(&class), "{class:?} not reached");
    }
}

#[test]
fn odd_input_is_clamped_never_a_panic() {
    let w = warehouse(4, 10, 1, 3, 1);
    // No stops: an empty route at the depot.
    for route in [
        s_shape(&w, &[]),
        largest_gap(&w, &[]),
        combined(&w, &[]),
        shortest(&w, &[]),
    ] {
        assert_eq!(route, Route::default());
    }
    assert!(sequence(&w, &[]).is_empty());
    // Out of the shape: clamped to the nearest bay position.
    let clamped = shortest(&w, &stops(&[(0, 0), (9, 99)]));
    assert_eq!(
        clamped.length,
        shortest(&w, &stops(&[(1, 1), (4, 10)])).length
    );
    // Indices outside the stops are skipped.
    let batch = stops(&[(2, 5)]);
    assert_eq!(w.walk_length(&batch, &[0, 7]), w.walk_length(&batch, &[0]));
    // Degenerate and enormous shapes, a depot outside the shape.
    let shapes = [
        warehouse(0, 0, 0, 0, 0),
        warehouse(1, 1, 0, 0, 9),
        warehouse(u32::MAX, u32::MAX, u32::MAX, u32::MAX, u32::MAX),
        warehouse(3, 5, 2, 0, 2),
    ];
    let batch = stops(&[(u32::MAX, 1), (1, u32::MAX), (2, 3), (2, 3), (0, 0)]);
    for w in shapes {
        let best = shortest(&w, &batch).length;
        for route in [
            s_shape(&w, &batch),
            largest_gap(&w, &batch),
            combined(&w, &batch),
        ] {
            assert_permutation(&route.order, batch.len(), "odd shape");
            assert!(route.length >= best, "{w:?}");
        }
        assert_permutation(&sequence(&w, &batch), batch.len(), "odd shape");
    }
    // The largest shape: the far corner and back is twice the width and the length.
    let huge = warehouse(u32::MAX, u32::MAX, u32::MAX, u32::MAX, 1);
    let far = shortest(&huge, &stops(&[(u32::MAX, u32::MAX)])).length;
    let side = u64::from(MAX_DIMENSION);
    assert_eq!(far, 2 * (side - 1) * side + 2 * side * side);
}
