//! COCO category ids (2017: 80 of the ids 1..=90) as contiguous labels `0..K`, numbered in
//! ascending id order, with the names; both directions, since training uses labels and the
//! evaluator the original ids.

/// The category numbering of one instances file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CocoCategories {
    ids: Vec<u64>,
    names: Vec<String>,
}

impl CocoCategories {
    /// Builds the map from `(id, name)` pairs; `Err(id)` names a duplicated id.
    pub fn new(mut pairs: Vec<(u64, String)>) -> std::result::Result<Self, u64> {
        pairs.sort_by_key(|p| p.0);
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(w[0].0);
        }
        let (ids, names) = pairs.into_iter().unzip();
        Ok(Self { ids, names })
    }

    /// Number of categories `K`.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no categories.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The label (`0..K`) of a COCO category id, or `None` for an id not in the file.
    pub fn label_of(&self, category_id: u64) -> Option<u32> {
        self.ids.binary_search(&category_id).ok().map(|l| l as u32)
    }

    /// The COCO category id of a label. Panics when `label >= len()`.
    pub fn id_of(&self, label: u32) -> u64 {
        self.ids[label as usize]
    }

    /// The name of a label. Panics when `label >= len()`.
    pub fn name(&self, label: u32) -> &str {
        &self.names[label as usize]
    }

    /// The category id of every label, ascending (`ids()[label]`).
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// The name of every label.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_ascending_ids_both_ways_and_duplicates_are_refused() {
        let c = CocoCategories::new(vec![
            (90, "toothbrush".into()),
            (1, "person".into()),
            (3, "car".into()),
        ])
        .unwrap();
        assert_eq!(c.ids(), [1, 3, 90]);
        assert_eq!(c.label_of(90), Some(2));
        assert_eq!(c.label_of(2), None);
        assert_eq!((c.id_of(1), c.name(1)), (3, "car"));
        assert_eq!(
            CocoCategories::new(vec![(5, "a".into()), (5, "b".into())]),
            Err(5)
        );
    }
}
