//! Who runs what: the leader's pure function from the live workers, the
//! work the connectors need and the previous assignment to the next one
//! (Connect's incremental cooperative assignor, in its essentials).
//!
//! - **Balanced:** connectors and tasks are spread separately, and no
//!   worker holds more than one task (or connector) more than another.
//! - **Sticky:** work stays where it runs unless its worker left, was
//!   drained, or holds more than its share; only that work moves.
//! - **Deterministic:** the same inputs give the same assignment, so every
//!   worker can check the leader's arithmetic.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// A worker, by the `host:port` it advertises.
pub type WorkerId = String;

/// One unit of work: a connector instance, or one of its tasks.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Work {
    Connector(String),
    Task(String, u32),
}

impl Work {
    pub fn connector(&self) -> &str {
        match self {
            Work::Connector(c) | Work::Task(c, _) => c,
        }
    }
}

/// What each worker runs, stamped with the epoch it was computed in: a
/// worker never acts on an assignment older than one it has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub epoch: u64,
    pub workers: BTreeMap<WorkerId, BTreeSet<Work>>,
}

impl Assignment {
    /// Where `work` runs, if anywhere.
    pub fn owner(&self, work: &Work) -> Option<&WorkerId> {
        self.workers
            .iter()
            .find(|(_, works)| works.contains(work))
            .map(|(w, _)| w)
    }

    pub fn of(&self, worker: &str) -> BTreeSet<Work> {
        self.workers.get(worker).cloned().unwrap_or_default()
    }
}

/// What the cluster should run: each connector and its number of tasks.
pub type Demand = BTreeMap<String, u32>;

/// The next assignment. `drained` workers get nothing (unless every live
/// worker is drained: work must run somewhere).
pub fn assign(
    previous: &Assignment,
    live: &BTreeSet<WorkerId>,
    drained: &BTreeSet<WorkerId>,
    demand: &Demand,
) -> Assignment {
    let mut eligible: Vec<WorkerId> = live.difference(drained).cloned().collect();
    if eligible.is_empty() {
        eligible = live.iter().cloned().collect();
    }
    let epoch = previous.epoch + 1;
    if eligible.is_empty() {
        return Assignment {
            epoch,
            workers: BTreeMap::new(),
        };
    }
    let wanted: BTreeSet<Work> = demand
        .iter()
        .flat_map(|(c, tasks)| {
            std::iter::once(Work::Connector(c.clone()))
                .chain((0..*tasks).map(move |t| Work::Task(c.clone(), t)))
        })
        .collect();
    let mut workers: BTreeMap<WorkerId, BTreeSet<Work>> = BTreeMap::new();
    for kind in [Kind::Connectors, Kind::Tasks] {
        // What each eligible worker already runs of this kind and still wanted.
        let mut kept: BTreeMap<WorkerId, Vec<Work>> = eligible
            .iter()
            .map(|w| {
                let works = previous
                    .workers
                    .get(w)
                    .into_iter()
                    .flatten()
                    .filter(|work| kind.holds(work) && wanted.contains(work))
                    .cloned()
                    .collect();
                (w.clone(), works)
            })
            .collect();
        let placed: BTreeSet<&Work> = kept.values().flatten().collect();
        let unplaced: Vec<Work> = wanted
            .iter()
            .filter(|w| kind.holds(w) && !placed.contains(w))
            .cloned()
            .collect();
        balance(&mut kept, unplaced);
        for (w, works) in kept {
            workers.entry(w).or_default().extend(works);
        }
    }
    Assignment { epoch, workers }
}

/// Work that `next` moves from one live worker to another is first taken
/// away from its old worker (revoke), and given to the new one in a later
/// assignment, as Kafka Connect's incremental cooperative protocol does:
/// the old task leaves its consumer group before the new one joins. `None`
/// when nothing moves between live workers.
pub fn revocation(
    current: &Assignment,
    next: &Assignment,
    live: &BTreeSet<WorkerId>,
) -> Option<Assignment> {
    let moving: BTreeSet<&Work> = next
        .workers
        .iter()
        .flat_map(|(to, works)| {
            works.iter().filter(move |work| {
                current
                    .owner(work)
                    .is_some_and(|from| from != to && live.contains(from))
            })
        })
        .collect();
    if moving.is_empty() {
        return None;
    }
    let workers = next
        .workers
        .iter()
        .map(|(w, works)| {
            let kept = works
                .iter()
                .filter(|x| !moving.contains(x))
                .cloned()
                .collect();
            (w.clone(), kept)
        })
        .collect();
    Some(Assignment {
        epoch: next.epoch,
        workers,
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Connectors,
    Tasks,
}

impl Kind {
    fn holds(self, work: &Work) -> bool {
        matches!(
            (self, work),
            (Kind::Connectors, Work::Connector(_)) | (Kind::Tasks, Work::Task(..))
        )
    }
}

/// Cap every worker at its share (the most loaded keep the extra units),
/// then give what is unplaced to the least loaded, one unit at a time.
fn balance(kept: &mut BTreeMap<WorkerId, Vec<Work>>, mut unplaced: Vec<Work>) {
    let total = kept.values().map(Vec::len).sum::<usize>() + unplaced.len();
    let n = kept.len();
    let (base, extra) = (total / n, total % n);
    let mut by_load: Vec<(usize, WorkerId)> = kept
        .iter()
        .map(|(w, works)| (works.len(), w.clone()))
        .collect();
    // Most loaded first (ties by id): they keep base + 1, so fewer units move.
    by_load.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (i, (_, w)) in by_load.iter().enumerate() {
        let cap = base + usize::from(i < extra);
        let works = kept.get_mut(w).expect("every worker is kept");
        works.sort();
        while works.len() > cap {
            unplaced.extend(works.pop());
        }
    }
    unplaced.sort();
    for work in unplaced {
        let least = kept
            .iter_mut()
            .min_by(|a, b| a.1.len().cmp(&b.1.len()).then_with(|| a.0.cmp(b.0)))
            .expect("at least one worker");
        least.1.push(work);
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};

    use super::*;

    fn workers(ids: &[&str]) -> BTreeSet<WorkerId> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    fn tasks_of(a: &Assignment, worker: &str) -> Vec<Work> {
        a.of(worker)
            .into_iter()
            .filter(|w| matches!(w, Work::Task(..)))
            .collect()
    }

    /// Everything wanted runs exactly once, on an eligible worker, and
    /// loads differ by at most one, for tasks and connectors alike.
    fn check(
        a: &Assignment,
        live: &BTreeSet<WorkerId>,
        drained: &BTreeSet<WorkerId>,
        demand: &Demand,
    ) {
        let mut seen = BTreeSet::new();
        for (w, works) in &a.workers {
            assert!(live.contains(w), "{w} is not live");
            if live.difference(drained).count() > 0 {
                assert!(works.is_empty() || !drained.contains(w), "{w} is drained");
            }
            for work in works {
                assert!(seen.insert(work.clone()), "{work:?} runs twice");
                assert!(
                    demand.get(work.connector()).is_some_and(|n| match work {
                        Work::Task(_, t) => t < n,
                        Work::Connector(_) => true,
                    }),
                    "{work:?} is not wanted"
                );
            }
        }
        let wanted: usize = demand.values().map(|n| *n as usize + 1).sum();
        assert_eq!(seen.len(), wanted, "everything wanted runs");
        let eligible: Vec<&WorkerId> = a.workers.keys().filter(|w| !drained.contains(*w)).collect();
        for kind in [Kind::Connectors, Kind::Tasks] {
            let loads: Vec<usize> = eligible
                .iter()
                .map(|w| a.workers[*w].iter().filter(|x| kind.holds(x)).count())
                .collect();
            if let (Some(max), Some(min)) = (loads.iter().max(), loads.iter().min()) {
                assert!(max - min <= 1, "unbalanced: {loads:?} in {a:?}");
            }
        }
    }

    #[test]
    fn three_workers_and_six_tasks_get_two_each() {
        let live = workers(&["a:1", "b:1", "c:1"]);
        let demand: Demand = [("orders".to_string(), 6)].into();
        let a = assign(&Assignment::default(), &live, &BTreeSet::new(), &demand);
        check(&a, &live, &BTreeSet::new(), &demand);
        for w in &live {
            assert_eq!(tasks_of(&a, w).len(), 2, "{a:?}");
        }
        assert_eq!(a.epoch, 1);
    }

    #[test]
    fn a_departure_moves_only_the_departed_workers_tasks_and_a_return_takes_some_back() {
        let live = workers(&["a:1", "b:1", "c:1"]);
        let demand: Demand = [("orders".to_string(), 6), ("clicks".to_string(), 3)].into();
        let none = BTreeSet::new();
        let first = assign(&Assignment::default(), &live, &none, &demand);
        let two = workers(&["a:1", "b:1"]);
        let second = assign(&first, &two, &none, &demand);
        check(&second, &two, &none, &demand);
        for w in &two {
            // Survivors keep everything they ran.
            assert!(first.of(w).is_subset(&second.of(w)), "{w} lost work");
        }
        let back = assign(&second, &live, &none, &demand);
        check(&back, &live, &none, &demand);
        assert!(
            !tasks_of(&back, "c:1").is_empty(),
            "the returning worker gets tasks"
        );
        // Only what c takes moved: nothing moved between a and b.
        for w in &two {
            assert!(
                back.of(w).is_subset(&second.of(w)),
                "{w} got work it did not have"
            );
        }
    }

    #[test]
    fn a_drained_worker_is_emptied_and_refilled_when_undrained() {
        let live = workers(&["a:1", "b:1", "c:1"]);
        let demand: Demand = [("orders".to_string(), 6)].into();
        let none = BTreeSet::new();
        let first = assign(&Assignment::default(), &live, &none, &demand);
        let drained = workers(&["b:1"]);
        let second = assign(&first, &live, &drained, &demand);
        check(&second, &live, &drained, &demand);
        assert!(second.of("b:1").is_empty());
        let third = assign(&second, &live, &none, &demand);
        assert_eq!(tasks_of(&third, "b:1").len(), 2);
        // Every worker drained: the work still runs.
        let all = assign(&third, &live, &live, &demand);
        assert_eq!(all.workers.values().map(BTreeSet::len).sum::<usize>(), 7);
    }

    #[test]
    fn fewer_tasks_drop_the_highest_and_keep_the_rest_in_place() {
        let live = workers(&["a:1", "b:1", "c:1"]);
        let none = BTreeSet::new();
        let six: Demand = [("orders".to_string(), 6)].into();
        let first = assign(&Assignment::default(), &live, &none, &six);
        let three: Demand = [("orders".to_string(), 3)].into();
        let second = assign(&first, &live, &none, &three);
        check(&second, &live, &none, &three);
        for w in &live {
            for work in tasks_of(&second, w) {
                assert_eq!(first.owner(&work), Some(w), "{work:?} moved");
            }
        }
        let gone: Demand = BTreeMap::new();
        assert!(
            assign(&second, &live, &none, &gone)
                .workers
                .values()
                .all(BTreeSet::is_empty)
        );
    }

    #[test]
    fn moves_between_live_workers_are_revoked_first() {
        let live = workers(&["a:1", "b:1"]);
        let none = BTreeSet::new();
        let demand: Demand = [("orders".to_string(), 4)].into();
        let first = assign(&Assignment::default(), &live, &none, &demand);
        assert!(
            revocation(&Assignment::default(), &first, &live).is_none(),
            "nothing moves"
        );
        let three = workers(&["a:1", "b:1", "c:1"]);
        let next = assign(&first, &three, &none, &demand);
        let revoked = revocation(&first, &next, &three).expect("c takes work from a and b");
        assert!(revoked.of("c:1").is_empty());
        for w in ["a:1", "b:1"] {
            assert!(revoked.of(w).is_subset(&first.of(w)));
            assert!(revoked.of(w).is_subset(&next.of(w)));
        }
        // A dead worker's work is not revoked: it moves at once.
        let only_a = workers(&["a:1"]);
        let after_death = assign(&first, &only_a, &none, &demand);
        assert!(revocation(&first, &after_death, &only_a).is_none());
        // A drained worker is live: its work is revoked before it moves.
        let drained = workers(&["b:1"]);
        let drain = assign(&first, &live, &drained, &demand);
        let revoked = revocation(&first, &drain, &live).expect("b's work moves");
        assert!(revoked.of("b:1").is_empty() && revoked.of("a:1") == first.of("a:1"));
    }

    #[test]
    fn random_clusters_stay_balanced_and_complete() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let ids: Vec<String> = (0..6).map(|i| format!("w{i}:8083")).collect();
        let mut previous = Assignment::default();
        for _ in 0..300 {
            let live: BTreeSet<WorkerId> = ids
                .iter()
                .filter(|_| rng.random_bool(0.7))
                .cloned()
                .collect();
            if live.is_empty() {
                continue;
            }
            let drained: BTreeSet<WorkerId> = live
                .iter()
                .filter(|_| rng.random_bool(0.15))
                .cloned()
                .collect();
            let demand: Demand = (0..rng.random_range(0..5))
                .map(|c| (format!("c{c}"), rng.random_range(0..9)))
                .collect();
            let next = assign(&previous, &live, &drained, &demand);
            check(&next, &live, &drained, &demand);
            assert_eq!(next.epoch, previous.epoch + 1);
            assert_eq!(
                next,
                assign(&previous, &live, &drained, &demand),
                "deterministic"
            );
            previous = next;
        }
    }
}
