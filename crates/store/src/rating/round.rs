//! Rating rounds (评定回合): opened by the city each year, their standard set and rules, their
//! publication, and the villages that join or leave them as the tree changes.

use super::*;

pub(super) fn round_json(r: &Round) -> serde_json::Value {
    serde_json::json!({
        "year": r.year,
        "thresholds": r.thresholds.min_percent,
        "veto_cap": r.thresholds.veto_cap,
        "lagging_max_stars": r.lagging.max_stars,
        "lagging_on_veto": r.lagging.on_veto,
    })
}

/// A village created while a round above it is open joins that round as a draft, rated by the
/// set most of its county's villages use in the round (a county may have its own), else by the
/// round's. Audited like every assessment's creation.
pub(crate) async fn join_open_rounds(
    conn: &mut AnyConnection,
    actor: &Actor,
    village: &crate::kernel::Org,
    now: i64,
) -> Result<()> {
    let rounds: Vec<(i64, i64, i64, String)> = sqlx::query_as(
        "SELECT id, year, set_id, org_path FROM rating_rounds WHERE published_at IS NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    let codes: Vec<&str> = village
        .path
        .trim_matches('/')
        .split('/')
        .filter(|c| !c.is_empty())
        .collect();
    let county_path = match codes.as_slice() {
        [city, county, ..] => format!("/{city}/{county}/"),
        _ => village.path.clone(),
    };
    for (round_id, year, round_set, round_path) in rounds {
        if !village.path.starts_with(&round_path) {
            continue;
        }
        let county_set: Option<(i64, i64)> = sqlx::query_as(
            "SELECT set_id, full_total FROM assessments WHERE round_id = $1 AND org_path >= $2 AND org_path < $3 \
             GROUP BY set_id, full_total ORDER BY COUNT(*) DESC, set_id LIMIT 1",
        )
        .bind(round_id)
        .bind(&county_path)
        .bind(baiqian_domain::org::path_upper_bound(&county_path))
        .fetch_optional(&mut *conn)
        .await?;
        let (set_id, full_total) = match county_set {
            Some(found) => found,
            None => {
                let full: i64 = items_of(&mut *conn, round_set)
                    .await?
                    .iter()
                    .map(|i| i.full_score)
                    .sum();
                (round_set, full)
            }
        };
        let id: i64 = sqlx::query(
            "INSERT INTO assessments (round_id, org_code, org_path, set_id, stage, full_total, updated_at) \
             VALUES ($1, $2, $3, $4, 'draft', $5, $6) RETURNING id",
        )
        .bind(round_id)
        .bind(village.code.as_str())
        .bind(&village.path)
        .bind(set_id)
        .bind(full_total)
        .bind(now)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        audit::record(
            conn,
            actor,
            now,
            Change::create(
                "assessment",
                &id.to_string(),
                &village.path,
                serde_json::json!({ "year": year, "set_id": set_id, "stage": "draft" }),
            ),
        )
        .await?;
    }
    Ok(())
}

/// A village being retired leaves the rounds still open: an untouched draft (no score, no
/// evidence, no step) is withdrawn, audited; an assessment with work in it refuses the retirement
/// (`rating.error.retire_under_way`), so nothing a village entered is lost.
pub(crate) async fn leave_open_rounds(
    conn: &mut AnyConnection,
    actor: &Actor,
    village: &crate::kernel::Org,
    now: i64,
) -> Result<()> {
    let open: Vec<(i64, i64, String, i64)> = sqlx::query_as(
        "SELECT a.id, r.year, a.stage, \
         (SELECT COUNT(*) FROM assessment_items i WHERE i.assessment_id = a.id) \
         + (SELECT COUNT(*) FROM evidence e WHERE e.assessment_id = a.id) \
         + (SELECT COUNT(*) FROM assessment_steps s WHERE s.assessment_id = a.id) \
         FROM assessments a JOIN rating_rounds r ON r.id = a.round_id \
         WHERE a.org_code = $1 AND r.published_at IS NULL",
    )
    .bind(village.code.as_str())
    .fetch_all(&mut *conn)
    .await?;
    if let Some((_, year, _, _)) = open
        .iter()
        .find(|(_, _, stage, work)| stage != "draft" || *work > 0)
    {
        return Err(StoreError::Conflict(
            Msg::new("rating.error.retire_under_way").arg("year", year),
        ));
    }
    for (id, year, _, _) in open {
        sqlx::query("DELETE FROM assessments WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        let mut change = Change::update(
            "assessment",
            &id.to_string(),
            &village.path,
            serde_json::json!({ "year": year, "stage": "draft" }),
            serde_json::json!(null),
        );
        change.action = "withdraw";
        audit::record(conn, actor, now, change).await?;
    }
    Ok(())
}

/// Follows the tree (`kernel::TreeEvent`) in the tree writer's transaction.
pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        match *event {
            TreeEvent::Created(node) if node.level == TreeLevel::Village => {
                join_open_rounds(conn, actor, node, now).await
            }
            TreeEvent::Retired { node, .. } if node.level == TreeLevel::Village => {
                leave_open_rounds(conn, actor, node, now).await
            }
            TreeEvent::Moved { old_path, new_path } => {
                for (table, column) in [
                    ("assessments", "org_path"),
                    ("rating_rounds", "org_path"),
                    ("standard_sets", "owner_path"),
                    ("featured_practices", "org_path"),
                    ("beautiful_villages", "org_path"),
                    ("collective_incomes", "org_path"),
                ] {
                    crate::kernel::move_paths(&mut *conn, table, column, old_path, new_path)
                        .await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    })
}

impl Db {
    /// The round of `year` covering a node, if one is open.
    pub async fn round_for(&self, node: &Node, year: i64) -> Result<Option<Round>> {
        let mut conn = self.pool().acquire().await?;
        round_covering(&mut conn, &node.path, year).await
    }

    /// The years with a round covering the node, newest first.
    pub async fn round_years(&self, node: &Node) -> Result<Vec<i64>> {
        sqlx::query(
            "SELECT DISTINCT year FROM rating_rounds WHERE substr($1, 1, length(org_path)) = org_path \
             ORDER BY year DESC",
        )
        .bind(&node.path)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| Ok(r.try_get(0)?))
        .collect()
    }

    /// Opens the rating round of a year for every village below the city admin's node, each
    /// with a draft self-assessment against the chosen set.
    pub async fn open_round(&self, actor: &Actor, new: NewRound, now: i64) -> Result<Round> {
        if actor.role != Role::CityAdmin {
            return Err(denied());
        }
        let root = actor.scope.root.clone().ok_or(StoreError::NotFound)?;
        if !(2000..=2100).contains(&new.year) {
            return Err(StoreError::Invalid(Msg::new("rating.error.year")));
        }
        for d in [&new.self_due, &new.review_due, &new.approve_due] {
            baiqian_domain::member::parse_date(d).map_err(|e| StoreError::Invalid(e.msg()))?;
        }
        if !(new.self_due <= new.review_due && new.review_due <= new.approve_due) {
            return Err(StoreError::Invalid(Msg::new("rating.error.due_order")));
        }
        let mut tx = self.write().await?;
        let root_path = crate::kernel::org_path(tx.conn(), root.as_str()).await?;
        let (set, items) = {
            let usable = sqlx::query(
                "SELECT id FROM standard_sets WHERE id = $1 \
                 AND substr($2, 1, length(owner_path)) = owner_path",
            )
            .bind(new.set_id)
            .bind(&root_path)
            .fetch_optional(tx.conn())
            .await?;
            if usable.is_none() {
                return Err(StoreError::Invalid(Msg::new("rating.error.set")));
            }
            (new.set_id, items_of(tx.conn(), new.set_id).await?)
        };
        if items.is_empty() {
            return Err(StoreError::Invalid(Msg::new("rating.error.empty_set")));
        }
        let full: i64 = items.iter().map(|i| i.full_score).sum();
        let t = Thresholds::default();
        let l = LaggingRule::default();
        let id: i64 = sqlx::query(
            "INSERT INTO rating_rounds (org_code, org_path, year, set_id, self_due, review_due, approve_due, \
             t1, t2, t3, t4, t5, veto_cap, lagging_max_stars, lagging_on_veto, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
        )
        .bind(root.as_str())
        .bind(&root_path)
        .bind(new.year)
        .bind(set)
        .bind(&new.self_due)
        .bind(&new.review_due)
        .bind(&new.approve_due)
        .bind(t.min_percent[0])
        .bind(t.min_percent[1])
        .bind(t.min_percent[2])
        .bind(t.min_percent[3])
        .bind(t.min_percent[4])
        .bind(t.veto_cap)
        .bind(l.max_stars)
        .bind(i64::from(l.on_veto))
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| {
            crate::on_unique(
                e,
                Msg::new("rating.error.round_exists").arg("year", new.year),
            )
        })?
        .try_get(0)?;
        let scope = Scope::new(root, &root_path);
        let created = sqlx::query(
            "INSERT INTO assessments (round_id, org_code, org_path, set_id, stage, full_total, updated_at) \
             SELECT $1, code, path, $2, 'draft', $3, $4 FROM orgs \
             WHERE level = 'village' AND retired_at IS NULL AND path >= $5 AND path < $6",
        )
        .bind(id)
        .bind(set)
        .bind(full)
        .bind(now)
        .bind(scope.lower())
        .bind(scope.upper())
        .execute(tx.conn())
        .await?
        .rows_affected();
        let round = round_by_id(tx.conn(), id).await?;
        let mut after = round_json(&round);
        after["assessments"] = created.into();
        after["set_id"] = set.into();
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create("rating_round", &new.year.to_string(), &root_path, after),
        )
        .await?;
        tx.commit().await?;
        Ok(round)
    }

    /// A county uses its own standard set for its villages: the drafts nobody has scored yet
    /// switch to it.
    pub async fn assign_standard_set(
        &self,
        actor: &Actor,
        year: i64,
        set_id: i64,
        now: i64,
    ) -> Result<u64> {
        if actor.role != Role::CountyAdmin {
            return Err(denied());
        }
        let root = actor.scope.root.clone().ok_or(StoreError::NotFound)?;
        let mut tx = self.write().await?;
        let root_path = crate::kernel::org_path(tx.conn(), root.as_str()).await?;
        let round = round_covering(tx.conn(), &root_path, year)
            .await?
            .ok_or(StoreError::NotFound)?;
        let visible = sqlx::query(
            "SELECT id FROM standard_sets WHERE id = $1 AND ((owner_path >= $2 AND owner_path < $3) \
             OR substr($2, 1, length(owner_path)) = owner_path)",
        )
        .bind(set_id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?;
        if visible.is_none() {
            return Err(StoreError::Invalid(Msg::new("rating.error.set")));
        }
        let items = items_of(tx.conn(), set_id).await?;
        if items.is_empty() {
            return Err(StoreError::Invalid(Msg::new("rating.error.empty_set")));
        }
        let full: i64 = items.iter().map(|i| i.full_score).sum();
        let n = sqlx::query(
            "UPDATE assessments SET set_id = $1, full_total = $2, updated_at = $3 \
             WHERE round_id = $4 AND org_path >= $5 AND org_path < $6 AND stage = 'draft' \
             AND NOT EXISTS (SELECT 1 FROM assessment_items ai WHERE ai.assessment_id = assessments.id)",
        )
        .bind(set_id)
        .bind(full)
        .bind(now)
        .bind(round.id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .execute(tx.conn())
        .await?
        .rows_affected();
        let mut c = Change::update(
            "rating_round",
            &year.to_string(),
            &root_path,
            serde_json::json!({"set_id": round.set_id}),
            serde_json::json!({"set_id": set_id, "assessments": n}),
        );
        c.action = "assign_set";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Changes a round's thresholds, veto cap and lagging rule, and re-rates every village of
    /// the round at once; says what moved.
    pub async fn set_rules(
        &self,
        actor: &Actor,
        year: i64,
        thresholds: Thresholds,
        lagging: LaggingRule,
        now: i64,
    ) -> Result<Moves> {
        if actor.role != Role::CityAdmin {
            return Err(denied());
        }
        if !(1..=4).contains(&lagging.max_stars) {
            return Err(StoreError::Invalid(Msg::new("rating.error.lagging_max")));
        }
        let mut tx = self.write().await?;
        let round = own_round(tx.conn(), actor, year).await?;
        if round.published_at.is_some() {
            return Err(StoreError::Conflict(Msg::new("rating.error.published")));
        }
        let t = &thresholds.min_percent;
        sqlx::query(
            "UPDATE rating_rounds SET t1 = $1, t2 = $2, t3 = $3, t4 = $4, t5 = $5, veto_cap = $6, \
             lagging_max_stars = $7, lagging_on_veto = $8 WHERE id = $9",
        )
        .bind(t[0])
        .bind(t[1])
        .bind(t[2])
        .bind(t[3])
        .bind(t[4])
        .bind(thresholds.veto_cap)
        .bind(lagging.max_stars)
        .bind(i64::from(lagging.on_veto))
        .bind(round.id)
        .execute(tx.conn())
        .await?;
        let updated = round_by_id(tx.conn(), round.id).await?;
        let moves = rerate(tx.conn(), &updated, now).await?;
        let mut after = round_json(&updated);
        after["rerated"] = moves.rerated.into();
        after["stars_up"] = moves.stars_up.into();
        after["stars_down"] = moves.stars_down.into();
        after["class_changed"] = moves.class_changed.into();
        let mut c = Change::update(
            "rating_round",
            &year.to_string(),
            &round.org_path,
            round_json(&round),
            after,
        );
        c.action = "rerate";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(moves)
    }

    /// How many of a round's villages are not yet approved: publishing waits for none.
    pub async fn assessments_not_approved(&self, round_id: i64) -> Result<i64> {
        Ok(sqlx::query(
            "SELECT COUNT(*) FROM assessments WHERE round_id = $1 AND stage <> 'approved'",
        )
        .bind(round_id)
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }

    /// The city publishes its round once every village's rating is approved.
    pub async fn publish_round(&self, actor: &Actor, year: i64, now: i64) -> Result<u64> {
        if actor.role != Role::CityAdmin {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let round = own_round(tx.conn(), actor, year).await?;
        if round.published_at.is_some() {
            return Err(StoreError::Conflict(Msg::new("rating.error.published")));
        }
        let pending: i64 = sqlx::query(
            "SELECT COUNT(*) FROM assessments WHERE round_id = $1 AND stage <> 'approved'",
        )
        .bind(round.id)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        if pending > 0 {
            return Err(StoreError::Conflict(
                Msg::new("rating.error.not_all_approved").arg("n", pending),
            ));
        }
        sqlx::query(
            "INSERT INTO assessment_steps (assessment_id, at, actor_login, actor_role, action, from_stage, to_stage) \
             SELECT id, $1, $2, $3, 'publish', 'approved', 'published' FROM assessments WHERE round_id = $4",
        )
        .bind(now)
        .bind(&actor.login)
        .bind(actor.role.as_str())
        .bind(round.id)
        .execute(tx.conn())
        .await?;
        let n = sqlx::query(
            "UPDATE assessments SET stage = 'published', updated_at = $1 WHERE round_id = $2",
        )
        .bind(now)
        .bind(round.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        sqlx::query("UPDATE rating_rounds SET published_at = $1 WHERE id = $2")
            .bind(now)
            .bind(round.id)
            .execute(tx.conn())
            .await?;
        let mut c = Change::update(
            "rating_round",
            &year.to_string(),
            &round.org_path,
            serde_json::json!({"published": false}),
            serde_json::json!({"published": true, "assessments": n}),
        );
        c.action = "publish";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(n)
    }
}
