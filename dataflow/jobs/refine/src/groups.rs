//! Noise groups (refine.md §5.1): the particles whose noise spectrum σ²_g(r) and intensity
//! scale S_g are estimated together.
//!
//! A particle's group is its `rlnGroupName` when the table has that column; otherwise its
//! micrograph (`rlnMicrographName` without a leading `JobType/jobNNN/` pipeline prefix, which
//! is also the group's name); otherwise every particle is in one group, `group_1`. Groups are
//! numbered in the order in which they first appear in the table (rlnGroupNumber = index + 1).

use std::collections::HashMap;

use cryoflux_formats::star::Table;

/// Name of the single group of a table without group or micrograph names.
pub const SINGLE_GROUP: &str = "group_1";

/// RELION warns about noise groups with fewer particles than this.
pub const SMALL_GROUP: usize = 10;

/// The noise groups of a particle table; see the module doc.
#[derive(Debug, Clone, PartialEq)]
pub struct NoiseGroups {
    names: Vec<String>,
    of_particle: Vec<usize>,
}

impl NoiseGroups {
    /// The groups of the rows of `particles` (module doc).
    pub fn of_table(particles: &Table) -> Self {
        let rows = particles.rows();
        let keys: Vec<String> = if let Some(names) = particles.texts("rlnGroupName") {
            names.to_vec()
        } else if let Some(micrographs) = particles.texts("rlnMicrographName") {
            micrographs
                .iter()
                .map(|m| without_job_prefix(m).to_string())
                .collect()
        } else {
            vec![SINGLE_GROUP.to_string(); rows]
        };
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut names = Vec::new();
        let mut of_particle = Vec::with_capacity(rows);
        for key in &keys {
            let next = names.len();
            let group = *index.entry(key.as_str()).or_insert_with(|| {
                names.push(key.clone());
                next
            });
            of_particle.push(group);
        }
        Self { names, of_particle }
    }

    /// Number of groups.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no groups (an empty table).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The groups' names (rlnGroupName), by group index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The group index (0-based) of every particle, in row order.
    pub fn of_particle(&self) -> &[usize] {
        &self.of_particle
    }

    /// Number of particles of each group.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.len()];
        self.of_particle.iter().for_each(|&g| sizes[g] += 1);
        sizes
    }
}

/// `name` without a leading `JobType/jobNNN/` (RELION pipeline directories).
fn without_job_prefix(name: &str) -> &str {
    let mut parts = name.splitn(3, '/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(kind), Some(job), Some(rest))
            if !kind.is_empty()
                && job.len() > 3
                && job.starts_with("job")
                && job[3..].bytes().all(|b| b.is_ascii_digit()) =>
        {
            rest
        }
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cryoflux_formats::star::{Column, ColumnData};

    fn table(label: &str, values: &[&str]) -> Table {
        Table::from_columns(vec![Column {
            label: label.into(),
            data: ColumnData::Text(values.iter().map(|v| v.to_string()).collect()),
        }])
        .unwrap()
    }

    #[test]
    fn micrographs_make_groups_in_order_of_first_appearance() {
        let t = table(
            "rlnMicrographName",
            &[
                "MotionCorr/job002/Movies/b.mrc",
                "MotionCorr/job002/Movies/a.mrc",
                "MotionCorr/job002/Movies/b.mrc",
                "Movies/c.mrc",
            ],
        );
        let g = NoiseGroups::of_table(&t);
        assert_eq!(g.names(), ["Movies/b.mrc", "Movies/a.mrc", "Movies/c.mrc"]);
        assert_eq!(g.of_particle(), [0, 1, 0, 2]);
        assert_eq!(g.sizes(), [2, 1, 1]);
    }

    #[test]
    fn group_names_win_and_without_either_there_is_one_group() {
        let mut t = table("rlnMicrographName", &["m1", "m2", "m3"]);
        t.set_column(Column {
            label: "rlnGroupName".into(),
            data: ColumnData::Text(vec!["g".into(), "h".into(), "g".into()]),
        });
        assert_eq!(NoiseGroups::of_table(&t).of_particle(), [0, 1, 0]);
        let plain = Table::from_columns(vec![Column {
            label: "rlnImageName".into(),
            data: ColumnData::Text(vec!["1@s.mrcs".into(), "2@s.mrcs".into()]),
        }])
        .unwrap();
        let g = NoiseGroups::of_table(&plain);
        assert_eq!(
            (g.names(), g.of_particle()),
            (&[SINGLE_GROUP.to_string()][..], &[0, 0][..])
        );
    }

    #[test]
    fn only_pipeline_job_prefixes_are_stripped() {
        assert_eq!(
            without_job_prefix("Extract/job012/Movies/x.mrc"),
            "Movies/x.mrc"
        );
        assert_eq!(without_job_prefix("data/jobs/x.mrc"), "data/jobs/x.mrc");
        assert_eq!(without_job_prefix("x.mrc"), "x.mrc");
        assert_eq!(without_job_prefix("A/job01x/y.mrc"), "A/job01x/y.mrc");
    }
}
