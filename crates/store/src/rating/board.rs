//! What the rating boards read: tallies of a node and its children, the assessments under a
//! node, a village's star history, the round's summary.

use super::*;

impl Db {
    /// Counts of a node's subtree in a round.
    pub async fn rating_tally(&self, round: &Round, node: &Node, today: &str) -> Result<Tally> {
        self.node_tally(round, node, today, Villages::Counted).await
    }

    /// A node's assessment counts in a round without the villages under it (the star history
    /// chart's bars): cheaper, and for a published round read from the database once.
    pub async fn rating_counts(&self, round: &Round, node: &Node, today: &str) -> Result<Tally> {
        self.node_tally(round, node, today, Villages::Skipped).await
    }

    /// The number of active villages under a node.
    pub async fn village_count(&self, node: &Node) -> Result<i64> {
        let path = node.path.as_str();
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM orgs WHERE level = 'village' AND retired_at IS NULL \
             AND path >= $1 AND path < $2",
        )
        .bind(path)
        .bind(baiqian_domain::org::path_upper_bound(path))
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }

    async fn node_tally(
        &self,
        round: &Round,
        node: &Node,
        today: &str,
        villages: Villages,
    ) -> Result<Tally> {
        let path = node.path.as_str();
        let mut conn = self.pool().acquire().await?;
        tally(
            &mut conn,
            &self.published_counts,
            round,
            (path, &baiqian_domain::org::path_upper_bound(path)),
            today,
            villages,
        )
        .await
    }

    /// The figures of each child of a node (given in the order to answer), in one pass per code
    /// length among them: the cost grows with the subtree, not with a query per child.
    pub async fn rating_child_tallies(
        &self,
        round: &Round,
        parent: &Node,
        children: &[Node],
        today: &str,
    ) -> Result<Vec<Tally>> {
        let parent_path = parent.path.as_str();
        let mut conn = self.pool().acquire().await?;
        let upper = baiqian_domain::org::path_upper_bound(parent_path);
        let mut lens: Vec<usize> = children.iter().map(|c| c.path.len()).collect();
        lens.sort_unstable();
        lens.dedup();
        let mut by_path = std::collections::HashMap::new();
        for len in lens {
            by_path.extend(
                tallies(
                    &mut conn,
                    &self.published_counts,
                    round,
                    (parent_path, &upper),
                    len,
                    today,
                    Villages::Counted,
                )
                .await?,
            );
        }
        Ok(children
            .iter()
            .map(|c| by_path.remove(&c.path).unwrap_or_default())
            .collect())
    }

    /// The assessments behind a board figure, in the subtree of a node.
    pub async fn assessments_under(
        &self,
        round: &Round,
        node: &Node,
        filter: &AssessmentFilter,
        today: &str,
        limit: i64,
    ) -> Result<Vec<Assessment>> {
        let path = node.path.as_str();
        let mut sql = format!(
            "SELECT {ASSESSMENT_COLUMNS} {ASSESSMENT_FROM} \
             WHERE a.round_id = $1 AND a.org_path >= $2 AND a.org_path < $3"
        );
        let mut n = 3;
        let mut binds: Vec<String> = Vec::new();
        if let Some(s) = filter.stage {
            n += 1;
            sql.push_str(&format!(" AND a.stage = ${n}"));
            binds.push(s.as_str().into());
        }
        if let Some(c) = filter.class {
            n += 1;
            sql.push_str(&format!(" AND COALESCE(a.class_manual, a.class) = ${n}"));
            binds.push(c.as_str().into());
        }
        if let Some(s) = filter.stars {
            sql.push_str(&format!(
                " AND a.stars = {} AND a.stage IN ('approved', 'published')",
                s.clamp(0, 5)
            ));
        }
        if filter.late {
            let late: Vec<String> = [Stage::Draft, Stage::Submitted, Stage::Reviewed]
                .into_iter()
                .filter(|s| round.is_late(*s, today))
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            if late.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(&format!(" AND a.stage IN ({})", late.join(",")));
        }
        sql.push_str(&format!(
            " ORDER BY {} LIMIT {}",
            filter.order.sql(),
            limit.clamp(1, 5000)
        ));
        let mut q = sqlx::query(&sql)
            .bind(round.id)
            .bind(path.to_string())
            .bind(baiqian_domain::org::path_upper_bound(path));
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(assessment_from_row)
            .collect()
    }

    /// A village's stars and class year by year, oldest first.
    pub async fn star_history(&self, scope: &Scope, village: &Node) -> Result<Vec<StarYear>> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} {ASSESSMENT_FROM} \
             WHERE a.org_code = $1 AND a.org_path >= $2 AND a.org_path < $3 ORDER BY r.year"
        ))
        .bind(village.code.as_str())
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_all(self.pool())
        .await?;
        let mut out: Vec<StarYear> = Vec::new();
        for r in &rows {
            let a = assessment_from_row(r)?;
            let rated = a.stage.is_rated();
            let stars = if rated { a.stars } else { None };
            let prev = out
                .last()
                .filter(|p| p.year == a.year - 1)
                .and_then(|p| p.stars);
            out.push(StarYear {
                year: a.year,
                stage: a.stage,
                stars,
                class: if rated { a.effective_class() } else { None },
                manual: a.class_manual.is_some(),
                advanced: matches!((prev, stars), (Some(p), Some(s)) if s > p),
            });
        }
        Ok(out)
    }

    /// The ratings of the villages under a node for the API: stars of rated villages, unrated,
    /// and classes.
    pub async fn rating_summary(
        &self,
        scope: &Scope,
        code: &baiqian_domain::org::OrgCode,
        year: i64,
        today: &str,
    ) -> Result<(Option<Round>, Tally)> {
        let node = self.org(scope, code).await?;
        let mut conn = self.pool().acquire().await?;
        let Some(round) = round_covering(&mut conn, &node.path, year).await? else {
            return Ok((None, Tally::default()));
        };
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let t = tally(
            &mut conn,
            &self.published_counts,
            &round,
            (&node.path, &upper),
            today,
            Villages::Counted,
        )
        .await?;
        Ok((Some(round), t))
    }
}
