//! The span tree of one trace, built and walked without recursion.
//!
//! Parent ids come from untrusted files: they may form cycles, name spans
//! that are not there, or chain 100,000 spans deep. [`Tree::build`] is
//! O(n log n) in the span count (a hash index and one sort per child list)
//! and places every span exactly once.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::record::SpanRecord;

/// One span in the walk order of a [`Tree`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// Its index in the trace's spans.
    pub index: usize,
    /// How many ancestors lie between it and the span its walk started at.
    pub depth: usize,
    /// Whether it is the last child of its parent (drawing `└─`).
    pub last: bool,
}

/// The span tree of one trace: children by start time, the top spans, the
/// parent-id cycles, and a depth-first order that holds every span once.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    parent: Vec<Option<usize>>,
    children: Vec<Vec<usize>>,
    tops: Vec<usize>,
    cycles: Vec<Vec<usize>>,
    duplicates: Vec<usize>,
    order: Vec<Placed>,
    position: Vec<usize>,
    reached: usize,
}

impl Tree {
    /// The tree of `spans` (indexes into `spans` throughout).
    ///
    /// ```
    /// use agento_runtime::archive::{SpanRecord, Tree};
    /// let span = |id: &str, parent: &str| SpanRecord {
    ///     span_id: id.into(), parent_span_id: parent.into(), ..SpanRecord::default()
    /// };
    /// // r ← a; b ← c ← b (a cycle no root reaches)
    /// let tree = Tree::build(&[span("r", ""), span("a", "r"), span("b", "c"), span("c", "b")]);
    /// assert_eq!(tree.tops(), &[0]);
    /// assert_eq!(tree.reachable().len(), 2);
    /// assert_eq!(tree.cycles(), &[vec![2, 3]]);
    /// assert_eq!(tree.unreachable().len(), 2);
    /// ```
    pub fn build(spans: &[SpanRecord]) -> Self {
        let n = spans.len();
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
        let mut duplicates = Vec::new();
        // The first span with an id is the one its children hang under.
        for (i, span) in spans.iter().enumerate() {
            match index.entry(span.span_id.as_str()) {
                Entry::Occupied(_) => duplicates.push(i),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
        let parent: Vec<Option<usize>> = spans
            .iter()
            .map(|s| {
                if s.parent_span_id.is_empty() {
                    None
                } else {
                    index.get(s.parent_span_id.as_str()).copied()
                }
            })
            .collect();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut tops = Vec::new();
        for (i, p) in parent.iter().enumerate() {
            match p {
                Some(p) => children[*p].push(i),
                None => tops.push(i),
            }
        }
        let by_start = |list: &mut Vec<usize>| list.sort_by_key(|&i| (spans[i].start_ns, i));
        children.iter_mut().for_each(by_start);
        by_start(&mut tops);
        let mut tree = Self {
            parent,
            children,
            tops,
            duplicates,
            position: vec![usize::MAX; n],
            ..Self::default()
        };
        let mut visited = vec![false; n];
        for top in tree.tops.clone() {
            tree.walk(top, &mut visited);
        }
        tree.reached = tree.order.len();
        tree.cycles = tree.find_cycles(&visited);
        for cycle in tree.cycles.clone() {
            tree.walk(cycle[0], &mut visited);
        }
        tree
    }

    /// Depth-first from `start`, children by start time, skipping spans
    /// already placed.
    fn walk(&mut self, start: usize, visited: &mut [bool]) {
        visited[start] = true;
        let mut stack = vec![Placed {
            index: start,
            depth: 0,
            last: true,
        }];
        while let Some(placed) = stack.pop() {
            self.position[placed.index] = self.order.len();
            self.order.push(placed);
            let fresh: Vec<usize> = self.children[placed.index]
                .iter()
                .copied()
                .filter(|&c| !visited[c])
                .collect();
            let count = fresh.len();
            for (k, &child) in fresh.iter().enumerate().rev() {
                visited[child] = true;
                stack.push(Placed {
                    index: child,
                    depth: placed.depth + 1,
                    last: k + 1 == count,
                });
            }
        }
    }

    /// The cycles among the spans no top reaches: each such span's parent
    /// chain ends in exactly one cycle. Each cycle starts at its lowest index
    /// and follows parent links.
    fn find_cycles(&self, reached: &[bool]) -> Vec<Vec<usize>> {
        const UNSEEN: u8 = 0;
        const ON_PATH: u8 = 1;
        const DONE: u8 = 2;
        let mut state: Vec<u8> = reached
            .iter()
            .map(|&r| if r { DONE } else { UNSEEN })
            .collect();
        let mut cycles = Vec::new();
        for start in 0..state.len() {
            let mut path = Vec::new();
            let mut at = Some(start);
            while let Some(i) = at {
                match state[i] {
                    UNSEEN => {
                        state[i] = ON_PATH;
                        path.push(i);
                        at = self.parent[i];
                    }
                    ON_PATH => {
                        let from = path.iter().position(|&p| p == i).unwrap_or(0);
                        let mut cycle = path[from..].to_vec();
                        let lowest = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, i)| **i)
                            .map_or(0, |(at, _)| at);
                        cycle.rotate_left(lowest);
                        cycles.push(cycle);
                        at = None;
                    }
                    _ => at = None,
                }
            }
            for i in path {
                state[i] = DONE;
            }
        }
        cycles.sort();
        cycles
    }

    /// The spans without a parent id or whose parent is not in the trace, by start time.
    pub fn tops(&self) -> &[usize] {
        &self.tops
    }

    /// The children of span `index`, by start time.
    pub fn children(&self, index: usize) -> &[usize] {
        self.children.get(index).map_or(&[], Vec::as_slice)
    }

    /// The parent of span `index`, when it is in the trace.
    pub fn parent(&self, index: usize) -> Option<usize> {
        self.parent.get(index).copied().flatten()
    }

    /// The cycles of parent links (each span's parent is the next one's
    /// child: `cycle[k]`'s parent is `cycle[k + 1]`, the last's is the first).
    pub fn cycles(&self) -> &[Vec<usize>] {
        &self.cycles
    }

    /// Spans whose span id an earlier span of the trace already has.
    pub fn duplicates(&self) -> &[usize] {
        &self.duplicates
    }

    /// Every span once: first the tops' subtrees depth-first, then the parts
    /// no top reaches, one walk from each cycle.
    pub fn order(&self) -> &[Placed] {
        &self.order
    }

    /// The part of [`Tree::order`] that the tops reach.
    pub fn reachable(&self) -> &[Placed] {
        &self.order[..self.reached]
    }

    /// The part of [`Tree::order`] that no top reaches (cycles and what hangs below them).
    pub fn unreachable(&self) -> &[Placed] {
        &self.order[self.reached..]
    }

    /// Span `index` and every span below it, in walk order (depths relative
    /// to the walk it belongs to).
    pub fn subtree(&self, index: usize) -> &[Placed] {
        let Some(&start) = self.position.get(index) else {
            return &[];
        };
        let depth = self.order[start].depth;
        let len = self.order[start + 1..]
            .iter()
            .take_while(|p| p.depth > depth)
            .count();
        &self.order[start..start + 1 + len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: &str, parent: &str, start: u64) -> SpanRecord {
        SpanRecord {
            span_id: id.into(),
            parent_span_id: parent.into(),
            start_ns: start,
            ..SpanRecord::default()
        }
    }

    #[test]
    fn children_come_by_start_time_and_the_walk_marks_the_last() {
        let spans = [span("r", "", 0), span("b", "r", 5), span("a", "r", 1)];
        let tree = Tree::build(&spans);
        assert_eq!(tree.children(0), &[2, 1]);
        let order: Vec<(usize, usize, bool)> = tree
            .order()
            .iter()
            .map(|p| (p.index, p.depth, p.last))
            .collect();
        assert_eq!(order, [(0, 0, true), (2, 1, false), (1, 1, true)]);
        assert!(tree.unreachable().is_empty() && tree.cycles().is_empty());
    }

    #[test]
    fn a_self_parent_and_a_span_below_a_cycle_are_unreachable() {
        let spans = [
            span("r", "", 0),
            span("s", "s", 0),
            span("x", "y", 0),
            span("y", "x", 0),
            span("below", "y", 0),
            span("orphan", "gone", 0),
        ];
        let tree = Tree::build(&spans);
        assert_eq!(tree.tops(), &[0, 5]);
        assert_eq!(tree.cycles(), &[vec![1], vec![2, 3]]);
        let unreachable: Vec<usize> = tree.unreachable().iter().map(|p| p.index).collect();
        assert_eq!(unreachable, [1, 2, 3, 4]);
        assert_eq!(tree.subtree(3).len(), 2);
    }

    #[test]
    fn a_duplicate_id_is_listed_and_children_hang_under_the_first() {
        let spans = [span("r", "", 0), span("r", "", 1), span("c", "r", 2)];
        let tree = Tree::build(&spans);
        assert_eq!(tree.duplicates(), &[1]);
        assert_eq!(tree.children(0), &[2]);
        assert_eq!(tree.order().len(), 3);
    }

    #[test]
    fn a_deep_chain_is_walked_without_recursion() {
        let n = 200_000;
        let spans: Vec<SpanRecord> = (0..n)
            .map(|i| {
                let parent = if i == 0 {
                    String::new()
                } else {
                    (i - 1).to_string()
                };
                span(&i.to_string(), &parent, 0)
            })
            .collect();
        let tree = Tree::build(&spans);
        assert_eq!(tree.reachable().len(), n);
        assert_eq!(tree.order()[n - 1].depth, n - 1);
    }
}
