//! A village's assessment (测评) in a round: scores, the stages from self-assessment to county
//! approval, and the class decided above it.

use super::*;

/// Recomputes an assessment's totals, stars and class from its items and its round's rules.
pub(super) async fn recompute(
    conn: &mut AnyConnection,
    a: &Assessment,
    stage: Stage,
    round: &Round,
    now: i64,
) -> Result<()> {
    let r = sqlx::query(
        "SELECT CAST(SUM(ai.self_score) AS BIGINT) AS self_total, \
         CAST(SUM(ai.score) AS BIGINT) AS total, COUNT(ai.score) AS scored, \
         CAST(SUM(CASE WHEN i.veto = 1 AND ai.vetoed = 1 THEN 1 ELSE 0 END) AS BIGINT) AS vetoes \
         FROM assessment_items ai JOIN standard_items i ON i.id = ai.item_id \
         WHERE ai.assessment_id = $1",
    )
    .bind(a.id)
    .fetch_one(&mut *conn)
    .await?;
    let scored: i64 = r.try_get("scored")?;
    let self_total: Option<i64> = r.try_get("self_total")?;
    // A draft has no rating yet: stars come from the scores once submitted.
    let total: Option<i64> = if stage == Stage::Draft {
        None
    } else {
        r.try_get("total")?
    };
    let veto_failed = r.try_get::<Option<i64>, _>("vetoes")?.unwrap_or(0) > 0;
    let (stars, class) = match total {
        Some(t) if scored > 0 => {
            let stars = round.thresholds.stars(t, a.full_total, veto_failed);
            let mut facts = facts_of(conn, &a.org_code, round.year).await?;
            facts.stars = stars;
            (
                Some(stars),
                Some(classify(&facts, veto_failed, round.lagging).as_str()),
            )
        }
        _ => (None, None),
    };
    sqlx::query(
        "UPDATE assessments SET self_total = $1, total = $2, veto_failed = $3, stars = $4, \
         class = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(self_total)
    .bind(total)
    .bind(i64::from(veto_failed))
    .bind(stars)
    .bind(class)
    .bind(now)
    .bind(a.id)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn record_step(
    conn: &mut AnyConnection,
    actor: &Actor,
    a: &Assessment,
    action: &str,
    to: Stage,
    reason: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO assessment_steps (assessment_id, at, actor_login, actor_role, action, from_stage, to_stage, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(a.id)
    .bind(now)
    .bind(&actor.login)
    .bind(actor.role.as_str())
    .bind(action)
    .bind(a.stage.as_str())
    .bind(to.as_str())
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refuses unless it is `role`'s turn on `a` and the caller is that role.
pub(super) fn check_turn(actor: &Actor, a: &Assessment, round: &Round) -> Result<()> {
    if !matches!(
        actor.role,
        Role::VillageSecretary | Role::TownshipAdmin | Role::CountyAdmin | Role::CityAdmin
    ) {
        return Err(denied());
    }
    if round.published_at.is_some() {
        return Err(StoreError::Conflict(Msg::new("rating.error.published")));
    }
    if a.stage.actor() != Some(actor.role) {
        return Err(StoreError::Conflict(
            Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
        ));
    }
    Ok(())
}

impl Db {
    /// The assessment of a village in a year, with its items, steps and evidence.
    pub async fn assessment_of(
        &self,
        scope: &Scope,
        village: &Node,
        year: i64,
    ) -> Result<Option<(Assessment, Vec<ScoredItem>, Vec<Step>)>> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLUMNS} {ASSESSMENT_FROM} \
             WHERE a.org_code = $1 AND r.year = $2 AND a.org_path >= $3 AND a.org_path < $4"
        ))
        .bind(village.code.as_str())
        .bind(year)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(&mut *conn)
        .await?;
        let Some(a) = row.as_ref().map(assessment_from_row).transpose()? else {
            return Ok(None);
        };
        let items = items_of(&mut conn, a.set_id).await?;
        let scores = sqlx::query(
            "SELECT item_id, self_score, self_vetoed, note, score, vetoed, review_reason \
             FROM assessment_items WHERE assessment_id = $1",
        )
        .bind(a.id)
        .fetch_all(&mut *conn)
        .await?;
        let evidence = sqlx::query(
            "SELECT id, assessment_id, item_id, sha256, mime, size, file_name, uploaded_by, uploaded_at \
             FROM evidence WHERE assessment_id = $1 ORDER BY id",
        )
        .bind(a.id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(evidence_from_row)
        .collect::<Result<Vec<_>>>()?;
        let mut scored = Vec::with_capacity(items.len());
        for item in items {
            let s = scores
                .iter()
                .find(|r| r.try_get::<i64, _>("item_id").ok() == Some(item.id));
            let ev = evidence
                .iter()
                .filter(|e| e.item_id == item.id)
                .cloned()
                .collect();
            scored.push(match s {
                Some(r) => ScoredItem {
                    self_score: r.try_get("self_score")?,
                    self_vetoed: r.try_get::<i64, _>("self_vetoed")? != 0,
                    note: r.try_get("note")?,
                    score: r.try_get("score")?,
                    vetoed: r.try_get::<i64, _>("vetoed")? != 0,
                    review_reason: r.try_get("review_reason")?,
                    evidence: ev,
                    item,
                },
                None => ScoredItem {
                    item,
                    self_score: None,
                    self_vetoed: false,
                    note: String::new(),
                    score: None,
                    vetoed: false,
                    review_reason: None,
                    evidence: ev,
                },
            });
        }
        let steps = sqlx::query(
            "SELECT at, actor_login, actor_role, action, from_stage, to_stage, reason \
             FROM assessment_steps WHERE assessment_id = $1 ORDER BY id DESC",
        )
        .bind(a.id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(Step {
                at: r.try_get("at")?,
                actor_login: r.try_get("actor_login")?,
                actor_role: r.try_get("actor_role")?,
                action: r.try_get("action")?,
                from_stage: r.try_get("from_stage")?,
                to_stage: r.try_get("to_stage")?,
                reason: r.try_get("reason")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some((a, scored, steps)))
    }

    /// Saves scores: the village's self-assessment while in draft, or the township's review
    /// while submitted (each changed score needs a reason).
    pub async fn save_scores(
        &self,
        actor: &Actor,
        assessment_id: i64,
        inputs: &[ItemInput],
        now: i64,
    ) -> Result<Assessment> {
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        check_turn(actor, &a, &round)?;
        if !matches!(a.stage, Stage::Draft | Stage::Submitted) {
            return Err(StoreError::Conflict(
                Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
            ));
        }
        let items = items_of(tx.conn(), a.set_id).await?;
        let current = sqlx::query(
            "SELECT item_id, self_score, self_vetoed, note, score, vetoed FROM assessment_items \
             WHERE assessment_id = $1",
        )
        .bind(a.id)
        .fetch_all(tx.conn())
        .await?;
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        for input in inputs {
            let item = items
                .iter()
                .find(|i| i.id == input.item_id)
                .ok_or(StoreError::NotFound)?;
            if !(0..=item.full_score).contains(&input.score) {
                return Err(StoreError::Invalid(
                    Msg::new("rating.error.item_score")
                        .arg("item", &item.code)
                        .arg("full", item.full_score),
                ));
            }
            let vetoed = item.veto && input.vetoed;
            let cur = current
                .iter()
                .find(|r| r.try_get::<i64, _>("item_id").ok() == Some(item.id));
            let (cur_score, cur_vetoed, cur_note): (Option<i64>, bool, String) = match cur {
                Some(r) if a.stage == Stage::Draft => (
                    r.try_get("self_score")?,
                    r.try_get::<i64, _>("self_vetoed")? != 0,
                    r.try_get("note")?,
                ),
                Some(r) => (
                    r.try_get("score")?,
                    r.try_get::<i64, _>("vetoed")? != 0,
                    String::new(),
                ),
                None => (None, false, String::new()),
            };
            let text = input.text.trim().to_string();
            if a.stage == Stage::Draft {
                if text.chars().count() > 500 {
                    return Err(StoreError::Invalid(
                        Msg::new("standard.error.too_long").arg("max", 500),
                    ));
                }
                if cur_score == Some(input.score) && cur_vetoed == vetoed && cur_note == text {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO assessment_items (assessment_id, item_id, self_score, self_vetoed, note) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (assessment_id, item_id) DO UPDATE SET self_score = $3, self_vetoed = $4, \
                     note = $5",
                )
                .bind(a.id)
                .bind(item.id)
                .bind(input.score)
                .bind(i64::from(vetoed))
                .bind(&text)
                .execute(tx.conn())
                .await?;
            } else {
                if cur_score == Some(input.score) && cur_vetoed == vetoed {
                    continue;
                }
                if text.is_empty() {
                    return Err(StoreError::Invalid(
                        Msg::new("rating.error.review_reason").arg("item", &item.code),
                    ));
                }
                let reason = reason_text(&text)?;
                sqlx::query(
                    "UPDATE assessment_items SET score = $1, vetoed = $2, review_reason = $3 \
                     WHERE assessment_id = $4 AND item_id = $5",
                )
                .bind(input.score)
                .bind(i64::from(vetoed))
                .bind(&reason)
                .bind(a.id)
                .bind(item.id)
                .execute(tx.conn())
                .await?;
            }
            before.insert(
                item.code.clone(),
                serde_json::json!({"score": cur_score, "vetoed": cur_vetoed}),
            );
            after.insert(
                item.code.clone(),
                serde_json::json!({"score": input.score, "vetoed": vetoed, "text": text}),
            );
        }
        if after.is_empty() {
            return Ok(a);
        }
        recompute(tx.conn(), &a, a.stage, &round, now).await?;
        let c = Change::update(
            if a.stage == Stage::Draft {
                "self_assessment"
            } else {
                "review"
            },
            &format!("{} {}", a.org_code, round.year),
            &a.org_path,
            before.into(),
            after.into(),
        );
        audit::record(tx.conn(), actor, now, c).await?;
        let out = assessment_in(tx.conn(), &actor.scope, a.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Moves an assessment one step on (submit, review done, approve) or back with a reason.
    /// Publication is the city's step for the whole round: `publish_round`.
    pub async fn step_assessment(
        &self,
        actor: &Actor,
        assessment_id: i64,
        action: StepAction,
        now: i64,
    ) -> Result<Assessment> {
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        check_turn(actor, &a, &round)?;
        let (to, name, reason) = match &action {
            StepAction::Forward => {
                let to = match a.stage {
                    Stage::Approved | Stage::Published => {
                        return Err(StoreError::Conflict(
                            Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
                        ));
                    }
                    s => s.next().ok_or(StoreError::NotFound)?,
                };
                let name = match a.stage {
                    Stage::Draft => "submit",
                    Stage::Submitted => "review",
                    _ => "approve",
                };
                (to, name, None)
            }
            StepAction::Back { reason } => {
                let to = a.stage.back().ok_or_else(|| {
                    StoreError::Conflict(
                        Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
                    )
                })?;
                (to, "send_back", Some(reason_text(reason)?))
            }
        };
        if a.stage == Stage::Draft && matches!(action, StepAction::Forward) {
            let r = sqlx::query(
                "SELECT COUNT(*) FROM standard_items i WHERE i.set_id = $1 AND NOT EXISTS \
                 (SELECT 1 FROM assessment_items ai WHERE ai.assessment_id = $2 AND ai.item_id = i.id \
                  AND ai.self_score IS NOT NULL)",
            )
            .bind(a.set_id)
            .bind(a.id)
            .fetch_one(tx.conn())
            .await?;
            let missing: i64 = r.try_get(0)?;
            if missing > 0 {
                return Err(StoreError::Invalid(
                    Msg::new("rating.error.unscored").arg("n", missing),
                ));
            }
        }
        if a.stage == Stage::Draft {
            // Submitted scores are what the township reviews.
            sqlx::query(
                "UPDATE assessment_items SET score = self_score, vetoed = self_vetoed, review_reason = NULL \
                 WHERE assessment_id = $1",
            )
            .bind(a.id)
            .execute(tx.conn())
            .await?;
        }
        sqlx::query("UPDATE assessments SET stage = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now)
            .bind(a.id)
            .execute(tx.conn())
            .await?;
        record_step(tx.conn(), actor, &a, name, to, reason.as_deref(), now).await?;
        recompute(tx.conn(), &a, to, &round, now).await?;
        let mut c = Change::update(
            "assessment",
            &format!("{} {}", a.org_code, round.year),
            &a.org_path,
            serde_json::json!({"stage": a.stage.as_str()}),
            serde_json::json!({"stage": to.as_str()}),
        );
        c.action = name;
        c.reason = reason;
        audit::record(tx.conn(), actor, now, c).await?;
        let out = assessment_in(tx.conn(), &actor.scope, a.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// A decision on a village's class that overrides the rule (county or city), or its removal
    /// (`None`); always with a reason.
    pub async fn decide_class(
        &self,
        actor: &Actor,
        assessment_id: i64,
        class: Option<VillageClass>,
        reason: &str,
        now: i64,
    ) -> Result<Assessment> {
        if !matches!(actor.role, Role::CountyAdmin | Role::CityAdmin) {
            return Err(denied());
        }
        let reason = reason_text(reason)?;
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        if round.published_at.is_some() {
            return Err(StoreError::Conflict(Msg::new("rating.error.published")));
        }
        sqlx::query(
            "UPDATE assessments SET class_manual = $1, class_reason = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(class.map(|c| c.as_str()))
        .bind(class.map(|_| reason.clone()))
        .bind(now)
        .bind(a.id)
        .execute(tx.conn())
        .await?;
        let mut c = Change::update(
            "village_class",
            &format!("{} {}", a.org_code, round.year),
            &a.org_path,
            serde_json::json!({"manual": a.class_manual.map(|c| c.as_str()), "rule": a.class.map(|c| c.as_str())}),
            serde_json::json!({"manual": class.map(|c| c.as_str())}),
        );
        c.action = "decide";
        c.reason = Some(reason);
        audit::record(tx.conn(), actor, now, c).await?;
        let out = assessment_in(tx.conn(), &actor.scope, a.id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// An assessment by id, if its village is in scope.
    pub async fn assessment_by_id(&self, scope: &Scope, id: i64) -> Result<Assessment> {
        let mut conn = self.pool().acquire().await?;
        assessment_in(&mut conn, scope, id).await
    }
}
