//! Impact analysis: given configuration items that have failed, which items and services are
//! down, which are degraded (still working, but without the redundancy they had), and the
//! path that explains each verdict.
//!
//! The estate is an AND/OR graph. An item needs *all* of what it runs on, depends on and is
//! protected by; a redundancy group (an HSRP pair, a cluster, dual WAN links) needs *any one*
//! of its members. Health is ordered Unaffected < Degraded < Down, and:
//! * a failed item is down;
//! * an item is as bad as the worst thing it needs;
//! * a group is down when every member is down, and degraded when any member is not
//!   unaffected.
//!
//! The answer is the least fixed point of these rules, so dependency cycles (real CMDBs have
//! them) neither loop nor make healthy items look broken. [`ImpactGraph::impact`] finds it by
//! propagating from the failed items along reverse edges, so a query costs the failure's
//! blast radius, not the size of the estate.

use crate::cmdb::RelationKind;
use std::collections::HashMap;

/// How a failure leaves an item, a group or a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    Unaffected,
    /// Working, but something it relies on has lost redundancy: one more failure takes it down.
    Degraded,
    Down,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Unaffected => "unaffected",
            Health::Degraded => "degraded",
            Health::Down => "down",
        }
    }
}

/// A node of the impact graph: a configuration item (services are items too) or a redundancy
/// group, by database id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Item(i64),
    Group(i64),
}

/// Why one node needs another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Via {
    Relation(RelationKind),
    /// A redundancy group needs its members (any one of them).
    Member,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Relation(k) => k.as_str(),
            Via::Member => "member",
        }
    }
}

const NONE: u32 = u32::MAX;

/// The part of the CMDB that failure travels through, held in memory so that a query walks
/// adjacency lists instead of the database.
#[derive(Debug, Default, Clone)]
pub struct ImpactGraph {
    nodes: Vec<Node>,
    index: HashMap<Node, u32>,
    /// What each node needs: its dependencies (items) or its members (groups).
    needs: Vec<Vec<(u32, Via)>>,
    /// The reverse of `needs`: who is hurt when this node fails.
    needed_by: Vec<Vec<u32>>,
}

impl ImpactGraph {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node (idempotent). Items without relationships still belong here, so a failed
    /// lone item is reported down.
    pub fn add_node(&mut self, node: Node) -> u32 {
        if let Some(&i) = self.index.get(&node) {
            return i;
        }
        let i = u32::try_from(self.nodes.len()).expect("fewer than 4 billion nodes");
        self.nodes.push(node);
        self.index.insert(node, i);
        self.needs.push(Vec::new());
        self.needed_by.push(Vec::new());
        i
    }

    /// Records `item —kind→ to`. Kinds that do not carry failure (connected-to, backed-up-by,
    /// managed-by) are left out; the return value says whether the edge was kept.
    pub fn add_relation(&mut self, item: i64, kind: RelationKind, to: Node) -> bool {
        if !kind.carries_failure() {
            return false;
        }
        let from = self.add_node(Node::Item(item));
        let to = self.add_node(to);
        self.needs[from as usize].push((to, Via::Relation(kind)));
        self.needed_by[to as usize].push(from);
        true
    }

    /// Makes `member` one of `group`'s members. A member counts once however often it is added.
    pub fn add_member(&mut self, group: i64, member: Node) {
        let g = self.add_node(Node::Group(group));
        let m = self.add_node(member);
        if self.needs[g as usize].iter().any(|&(x, _)| x == m) {
            return;
        }
        self.needs[g as usize].push((m, Via::Member));
        self.needed_by[m as usize].push(g);
    }

    /// Whether an item needs anything (runs on, depends on, is protected by): whether a
    /// failure elsewhere could explain its own.
    pub fn needs_anything(&self, item: i64) -> bool {
        self.index.get(&Node::Item(item)).is_some_and(|&i| !self.needs[i as usize].is_empty())
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn contains(&self, node: Node) -> bool {
        self.index.contains_key(&node)
    }

    /// What fails, and how badly, when the `failed` items fail together.
    pub fn impact(&self, failed: impl IntoIterator<Item = i64>) -> Impact<'_> {
        let n = self.nodes.len();
        let mut imp =
            Impact { graph: self, health: vec![Health::Unaffected; n], cause: vec![NONE; n], touched: Vec::new() };
        // Per group: members not unaffected, and members down.
        let mut hurt = vec![0u32; n];
        let mut down = vec![0u32; n];
        // Changes still to pass on: (node, health before, health after).
        let mut pending: Vec<(u32, Health, Health)> = Vec::new();
        for id in failed {
            if let Some(&i) = self.index.get(&Node::Item(id)) {
                let before = imp.health[i as usize];
                if before != Health::Down {
                    imp.raise(i, Health::Down, NONE);
                    pending.push((i, before, Health::Down));
                }
            }
        }
        while let Some((x, before, after)) = pending.pop() {
            for &d in &self.needed_by[x as usize] {
                let du = d as usize;
                let proposed = match self.nodes[du] {
                    Node::Item(_) => after,
                    Node::Group(_) => {
                        if before == Health::Unaffected {
                            hurt[du] += 1;
                        }
                        if after == Health::Down {
                            down[du] += 1;
                        }
                        if down[du] as usize == self.needs[du].len() { Health::Down } else { Health::Degraded }
                    }
                };
                let current = imp.health[du];
                if proposed > current {
                    imp.raise(d, proposed, x);
                    pending.push((d, current, proposed));
                }
            }
        }
        imp
    }

    /// Everything `root` needs, transitively, in depth-first order. A node reached a second
    /// time (shared infrastructure, or a cycle) is listed again but not expanded again, so
    /// the tree stays as large as the graph, not exponential in it.
    pub fn dependency_tree(&self, root: Node) -> Vec<TreeRow> {
        let Some(&r) = self.index.get(&root) else { return Vec::new() };
        let mut expanded = vec![false; self.nodes.len()];
        let mut rows = Vec::new();
        let mut stack: Vec<(u32, usize, Option<Via>)> = vec![(r, 0, None)];
        while let Some((i, depth, via)) = stack.pop() {
            let repeated = expanded[i as usize];
            rows.push(TreeRow { node: self.nodes[i as usize], depth, via, repeated });
            if !repeated {
                expanded[i as usize] = true;
                // Reversed so that children come out in the order they were recorded.
                for &(c, v) in self.needs[i as usize].iter().rev() {
                    stack.push((c, depth + 1, Some(v)));
                }
            }
        }
        rows
    }
}

impl ImpactGraph {
    /// The items whose failure alone takes `root` down: its single points of failure. Only
    /// items `root` needs (transitively) can be one, so each of those is tried in turn.
    pub fn single_points_of_failure(&self, root: Node) -> Vec<i64> {
        let mut spofs: Vec<i64> = self
            .dependency_tree(root)
            .into_iter()
            .filter(|r| !r.repeated)
            .filter_map(|r| match r.node {
                Node::Item(i) if r.node != root => Some(i),
                _ => None,
            })
            .filter(|&i| self.impact([i]).health(root) == Health::Down)
            .collect();
        spofs.sort_unstable();
        spofs
    }
}

/// One line of a dependency tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    pub node: Node,
    /// 0 for the root.
    pub depth: usize,
    /// How the parent row needs this node; `None` for the root.
    pub via: Option<Via>,
    /// Already listed (and expanded) above.
    pub repeated: bool,
}

/// The outcome of one failure scenario.
#[derive(Debug)]
pub struct Impact<'g> {
    graph: &'g ImpactGraph,
    health: Vec<Health>,
    /// The node whose change last raised each node's health; `NONE` for the failed items.
    cause: Vec<u32>,
    touched: Vec<u32>,
}

/// One step of an explanation: `node`, reached from the previous step `via` a relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub node: Node,
    pub via: Option<Via>,
}

impl Impact<'_> {
    fn raise(&mut self, i: u32, to: Health, cause: u32) {
        if self.health[i as usize] == Health::Unaffected {
            self.touched.push(i);
        }
        self.health[i as usize] = to;
        self.cause[i as usize] = cause;
    }

    pub fn health(&self, node: Node) -> Health {
        self.graph.index.get(&node).map_or(Health::Unaffected, |&i| self.health[i as usize])
    }

    /// Every node the failure reaches, with its health, in the order it was reached.
    pub fn affected(&self) -> impl Iterator<Item = (Node, Health)> + '_ {
        self.touched.iter().map(|&i| (self.graph.nodes[i as usize], self.health[i as usize]))
    }

    /// Why `node` is down or degraded: the chain of needs from `node` to a failed item. For a
    /// degraded node the chain passes through the group that absorbed the failure. Empty for
    /// an unaffected node.
    pub fn path(&self, node: Node) -> Vec<Step> {
        let Some(&start) = self.graph.index.get(&node) else { return Vec::new() };
        if self.health[start as usize] == Health::Unaffected {
            return Vec::new();
        }
        let mut steps = vec![Step { node, via: None }];
        let mut at = start;
        // Each cause was raised before what it caused, so the chain ends; the bound is a guard.
        while self.cause[at as usize] != NONE && steps.len() <= self.graph.len() {
            let next = self.cause[at as usize];
            let via = self.graph.needs[at as usize].iter().find(|&&(x, _)| x == next).map(|&(_, v)| v);
            steps.push(Step { node: self.graph.nodes[next as usize], via });
            at = next;
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn item(i: i64) -> Node {
        Node::Item(i)
    }

    /// A plant: a SCADA service on an app that runs on a VM cluster (group 1 of two
    /// hypervisors), reached through an HSRP pair of core switches (group 2), behind one
    /// firewall.
    fn plant() -> ImpactGraph {
        let mut g = ImpactGraph::new();
        let (svc, app, hv1, hv2, sw1, sw2, fw, backup) = (100, 10, 1, 2, 3, 4, 5, 6);
        g.add_relation(svc, RelationKind::DependsOn, item(app));
        g.add_relation(app, RelationKind::RunsOn, Node::Group(1));
        g.add_member(1, item(hv1));
        g.add_member(1, item(hv2));
        g.add_relation(app, RelationKind::DependsOn, Node::Group(2));
        g.add_member(2, item(sw1));
        g.add_member(2, item(sw2));
        g.add_relation(app, RelationKind::ProtectedBy, item(fw));
        assert!(!g.add_relation(app, RelationKind::BackedUpBy, item(backup)));
        g.add_node(item(backup));
        g
    }

    #[test]
    fn one_member_of_a_pair_degrades_both_members_take_it_down() {
        let g = plant();
        let one = g.impact([3]);
        assert_eq!(one.health(item(100)), Health::Degraded);
        assert_eq!(one.health(Node::Group(2)), Health::Degraded);
        let path: Vec<Node> = one.path(item(100)).iter().map(|s| s.node).collect();
        assert_eq!(path, vec![item(100), item(10), Node::Group(2), item(3)]);
        assert_eq!(one.path(item(100))[2].via, Some(Via::Relation(RelationKind::DependsOn)));
        assert_eq!(one.path(item(100))[3].via, Some(Via::Member));

        let both = g.impact([3, 4]);
        assert_eq!(both.health(item(100)), Health::Down);
        assert_eq!(both.health(item(1)), Health::Unaffected);
    }

    #[test]
    fn a_single_firewall_is_a_single_point_of_failure() {
        let g = plant();
        let fw = g.impact([5]);
        assert_eq!(fw.health(item(100)), Health::Down);
        let path: Vec<Node> = fw.path(item(100)).iter().map(|s| s.node).collect();
        assert_eq!(path, vec![item(100), item(10), item(5)]);
        assert_eq!(fw.path(item(100))[2].via, Some(Via::Relation(RelationKind::ProtectedBy)));
    }

    #[test]
    fn single_points_of_failure_are_what_no_group_protects() {
        let g = plant();
        // The firewall and the app itself; not the pair members, not the backup system.
        assert_eq!(g.single_points_of_failure(item(100)), vec![5, 10]);
        assert_eq!(g.single_points_of_failure(item(6)), Vec::<i64>::new(), "needs nothing, fails alone");
    }

    #[test]
    fn relations_that_carry_no_failure_leave_items_alone() {
        let g = plant();
        let b = g.impact([6]);
        assert_eq!(b.health(item(6)), Health::Down);
        assert_eq!(b.health(item(100)), Health::Unaffected);
        assert!(b.path(item(100)).is_empty());
        assert_eq!(b.affected().count(), 1);
    }

    #[test]
    fn cycles_do_not_spread_failure_that_is_not_there() {
        let mut g = ImpactGraph::new();
        g.add_relation(1, RelationKind::DependsOn, item(2));
        g.add_relation(2, RelationKind::DependsOn, item(1));
        g.add_relation(3, RelationKind::DependsOn, item(1));
        g.add_node(item(4));
        assert_eq!(g.impact([4]).health(item(3)), Health::Unaffected);
        let hit = g.impact([2]);
        assert_eq!(hit.health(item(3)), Health::Down);
        let path: Vec<Node> = hit.path(item(3)).iter().map(|s| s.node).collect();
        assert_eq!(path, vec![item(3), item(1), item(2)]);
    }

    #[test]
    fn dependency_tree_lists_shared_nodes_once_expanded() {
        let mut g = plant();
        g.add_relation(101, RelationKind::DependsOn, item(100));
        g.add_relation(101, RelationKind::DependsOn, item(10));
        let rows = g.dependency_tree(item(101));
        let names: Vec<(usize, Node, bool)> = rows.iter().map(|r| (r.depth, r.node, r.repeated)).collect();
        assert_eq!(names[0], (0, item(101), false));
        assert_eq!(names[1], (1, item(100), false));
        assert_eq!(names[2], (2, item(10), false));
        assert!(names.contains(&(1, item(10), true)), "the second reference is not expanded: {names:?}");
        assert_eq!(rows.iter().filter(|r| !r.repeated).count(), 10, "every reachable node once: {names:?}");
        assert!(g.dependency_tree(item(999)).is_empty());
    }

    // ------------------------------------------------------------------------------------
    // Property tests against a brute-force evaluation of the rules in the module comment.

    #[derive(Debug, Clone)]
    struct Scenario {
        items: i64,
        relations: Vec<(i64, u8, Node)>,
        members: Vec<(i64, Node)>,
        failed: Vec<i64>,
    }

    fn scenario() -> impl Strategy<Value = Scenario> {
        (1i64..24, 0i64..6).prop_flat_map(|(items, groups)| {
            let node = move || {
                if groups == 0 {
                    (0..items).prop_map(Node::Item).boxed()
                } else {
                    prop_oneof![3 => (0..items).prop_map(Node::Item), 1 => (0..groups).prop_map(Node::Group)].boxed()
                }
            };
            let relations = prop::collection::vec((0..items, 0u8..6, node()), 0..60);
            let members = if groups == 0 {
                Just(Vec::new()).boxed()
            } else {
                prop::collection::vec((0..groups, node()), 0..16).boxed()
            };
            let failed = prop::collection::vec(0..items, 0..5);
            (relations, members, failed).prop_map(move |(relations, members, failed)| Scenario {
                items,
                relations,
                members,
                failed,
            })
        })
    }

    fn build(s: &Scenario) -> ImpactGraph {
        let mut g = ImpactGraph::new();
        for i in 0..s.items {
            g.add_node(Node::Item(i));
        }
        for &(from, kind, to) in &s.relations {
            g.add_relation(from, RelationKind::ALL[kind as usize], to);
        }
        for &(group, member) in &s.members {
            g.add_member(group, member);
        }
        g
    }

    /// The rules applied to every node over and over until nothing changes (Kleene iteration
    /// from "all unaffected"), straight from the scenario rather than the graph's indexes.
    fn brute_force(s: &Scenario) -> HashMap<Node, Health> {
        let mut nodes: HashSet<Node> = (0..s.items).map(Node::Item).collect();
        let mut item_needs: HashMap<i64, Vec<Node>> = HashMap::new();
        let mut group_members: HashMap<i64, HashSet<Node>> = HashMap::new();
        for &(from, kind, to) in &s.relations {
            nodes.insert(to);
            if RelationKind::ALL[kind as usize].carries_failure() {
                item_needs.entry(from).or_default().push(to);
            }
        }
        for &(group, member) in &s.members {
            nodes.insert(Node::Group(group));
            nodes.insert(member);
            group_members.entry(group).or_default().insert(member);
        }
        let failed: HashSet<i64> = s.failed.iter().copied().collect();
        let mut health: HashMap<Node, Health> = nodes.iter().map(|&n| (n, Health::Unaffected)).collect();
        loop {
            let mut changed = false;
            for &n in &nodes {
                let new = match n {
                    Node::Item(i) if failed.contains(&i) => Health::Down,
                    Node::Item(i) => {
                        item_needs.get(&i).into_iter().flatten().map(|d| health[d]).max().unwrap_or(Health::Unaffected)
                    }
                    Node::Group(g) => {
                        let members: Vec<Health> =
                            group_members.get(&g).into_iter().flatten().map(|m| health[m]).collect();
                        if !members.is_empty() && members.iter().all(|&h| h == Health::Down) {
                            Health::Down
                        } else if members.iter().any(|&h| h != Health::Unaffected) {
                            Health::Degraded
                        } else {
                            Health::Unaffected
                        }
                    }
                };
                if health[&n] != new {
                    health.insert(n, new);
                    changed = true;
                }
            }
            if !changed {
                return health;
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn impact_matches_brute_force(s in scenario()) {
            let g = build(&s);
            let expected = brute_force(&s);
            let imp = g.impact(s.failed.iter().copied());
            for (&node, &h) in &expected {
                prop_assert_eq!(imp.health(node), h, "node {:?} in {:?}", node, s);
            }
            let affected: HashSet<Node> = imp.affected().map(|(n, _)| n).collect();
            let expected_affected: HashSet<Node> =
                expected.iter().filter(|(_, h)| **h != Health::Unaffected).map(|(n, _)| *n).collect();
            prop_assert_eq!(affected, expected_affected);
        }

        #[test]
        fn every_verdict_has_a_path_that_explains_it(s in scenario()) {
            let g = build(&s);
            let imp = g.impact(s.failed.iter().copied());
            let failed: HashSet<i64> = s.failed.iter().copied().collect();
            for (node, h) in imp.affected() {
                let path = imp.path(node);
                prop_assert_eq!(path[0].node, node);
                let Node::Item(last) = path[path.len() - 1].node else {
                    return Err(TestCaseError::fail(format!("{node:?}: path ends in a group: {path:?}")));
                };
                prop_assert!(failed.contains(&last), "{:?}: path ends at {} which did not fail", node, last);
                for pair in path.windows(2) {
                    let (from, to) = (pair[0].node, pair[1].node);
                    let via = pair[1].via.expect("every step after the first names its relationship");
                    let real = match (from, via) {
                        (Node::Item(i), Via::Relation(k)) => {
                            k.carries_failure() && s.relations.iter().any(|&(f, kk, t)| f == i && RelationKind::ALL[kk as usize] == k && t == to)
                        }
                        (Node::Group(gr), Via::Member) => s.members.contains(&(gr, to)),
                        _ => false,
                    };
                    prop_assert!(real, "{:?} -> {:?} via {:?} is not in the CMDB", from, to, via);
                    prop_assert!(imp.health(to) != Health::Unaffected);
                }
                if h == Health::Down {
                    prop_assert!(path.iter().all(|st| imp.health(st.node) == Health::Down), "{:?}", path);
                } else {
                    prop_assert!(
                        path.iter().any(|st| matches!(st.node, Node::Group(_)) && imp.health(st.node) == Health::Degraded),
                        "a degraded verdict passes a degraded group: {:?}", path
                    );
                }
            }
        }

        #[test]
        fn single_points_of_failure_match_brute_force(s in scenario(), root in 0i64..24) {
            let g = build(&s);
            let root = Node::Item(root % s.items);
            let expected: Vec<i64> = (0..s.items)
                .filter(|&i| Node::Item(i) != root)
                .filter(|&i| brute_force(&Scenario { failed: vec![i], ..s.clone() })[&root] == Health::Down)
                .collect();
            prop_assert_eq!(g.single_points_of_failure(root), expected);
        }

        #[test]
        fn more_failures_never_make_anything_healthier(s in scenario(), extra in 0i64..24) {
            let g = build(&s);
            let before = g.impact(s.failed.iter().copied());
            let after = g.impact(s.failed.iter().copied().chain([extra % s.items]));
            for (node, h) in before.affected() {
                prop_assert!(after.health(node) >= h);
            }
        }

        #[test]
        fn dependency_tree_holds_exactly_what_is_reachable(s in scenario(), root in 0i64..24) {
            let g = build(&s);
            let root = Node::Item(root % s.items);
            let rows = g.dependency_tree(root);
            let listed: Vec<Node> = rows.iter().filter(|r| !r.repeated).map(|r| r.node).collect();
            let unique: HashSet<Node> = listed.iter().copied().collect();
            prop_assert_eq!(listed.len(), unique.len(), "each node expanded once");
            // Reachability by a plain search over the scenario.
            let mut seen = HashSet::from([root]);
            let mut todo = vec![root];
            while let Some(n) = todo.pop() {
                let next: Vec<Node> = match n {
                    Node::Item(i) => s.relations.iter()
                        .filter(|&&(f, k, _)| f == i && RelationKind::ALL[k as usize].carries_failure())
                        .map(|&(_, _, t)| t).collect(),
                    Node::Group(gr) => s.members.iter().filter(|&&(x, _)| x == gr).map(|&(_, m)| m).collect(),
                };
                for m in next {
                    if seen.insert(m) {
                        todo.push(m);
                    }
                }
            }
            prop_assert_eq!(unique, seen);
        }
    }
}
