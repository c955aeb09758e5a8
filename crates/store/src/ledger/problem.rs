//! A problem's life through the application: reported (from a form, a visit's finding or an
//! imported ledger), read with its history and evidence, moved a step (the four-eyes rule on
//! verification), listed under a node, and found on its owner's task list when late.

use super::*;

impl Db {
    /// Reports a problem of a village in scope. The village and those above it report; a
    /// leader reports what their own visit found (`source` = visit, the visit named).
    pub async fn create_problem(&self, actor: &Actor, new: &NewProblem, now: i64) -> Result<i64> {
        let from_visit = new.source.trim() == ProblemSource::Visit.as_str();
        if !(actor.role.may(Capability::ReportProblems)
            || (from_visit && actor.role.may(Capability::LogVisits)))
        {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let id = create_problem_in(tx.conn(), actor, new, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes a ledger of problems in one transaction, all or none: each as `create_problem`
    /// checks it, already in the status the ledger gives (an officials' ledger records what is
    /// rectified and verified; only those who verify may bring in verified ones). The first bad
    /// row stops it and nothing is written.
    pub async fn import_problems(
        &self,
        actor: &Actor,
        rows: &[(NewProblem, ProblemStatus)],
        now: i64,
    ) -> Result<Vec<i64>> {
        if !actor.role.may(Capability::ReportProblems) {
            return Err(denied());
        }
        let today = china_date(now);
        let mut tx = self.write().await?;
        let marked = marked_day(tx.conn()).await?;
        let mut ids = Vec::with_capacity(rows.len());
        for (new, status) in rows {
            if matches!(status, ProblemStatus::Verified | ProblemStatus::Reopened)
                && !actor.role.may(Capability::VerifyProblems)
            {
                return Err(denied());
            }
            let checked = check_problem(tx.conn(), actor, new, &today).await?;
            if let Some(survey) = checked.survey_id {
                survey::check_survey_village(tx.conn(), survey, checked.village.code.as_str())
                    .await?;
            }
            let id = insert_problem(tx.conn(), &actor.login, &checked, &marked, now).await?;
            set_imported_status(tx.conn(), &actor.login, id, &checked, *status, &marked, now)
                .await?;
            ids.push(id);
        }
        if let Some(first) = rows.first() {
            let path = match OrgCode::parse(first.0.village.trim()) {
                Ok(code) => crate::kernel::org_path(tx.conn(), code.as_str()).await?,
                Err(_) => "/".into(),
            };
            let mut change = Change::create(
                "problem",
                &format!("{} problems", ids.len()),
                &path,
                json!({"problems": ids.len()}),
            );
            change.action = "bulk_load";
            audit::record(tx.conn(), actor, now, change).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// A problem in scope with its history (oldest first) and its evidence.
    pub async fn problem(
        &self,
        scope: &Scope,
        id: i64,
    ) -> Result<(Problem, Vec<ProblemUpdate>, Vec<ProblemEvidence>)> {
        let mut conn = self.pool().acquire().await?;
        let p = problem_in(&mut conn, scope, id).await?;
        let updates = sqlx::query(
            "SELECT at, login, step, from_status, to_status, note FROM problem_updates \
             WHERE problem_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(ProblemUpdate {
                at: r.try_get("at")?,
                login: r.try_get("login")?,
                step: r.try_get("step")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                note: r.try_get("note")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let evidence = sqlx::query(
            "SELECT id, problem_id, sha256, mime, size, file_name, uploaded_by, uploaded_at \
             FROM problem_evidence WHERE problem_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(evidence_from_row)
        .collect::<Result<Vec<_>>>()?;
        Ok((p, updates, evidence))
    }

    /// Takes a step on a problem in scope: start and rectify (the village and above), verify and
    /// reopen (only the level above the village). A step out of order is refused, nothing
    /// written.
    pub async fn problem_step(
        &self,
        actor: &Actor,
        id: i64,
        step: ProblemStep,
        note: &str,
        now: i64,
    ) -> Result<Problem> {
        let mut tx = self.write().await?;
        let after = step_problem(tx.conn(), actor, id, step, note, now).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Records an evidence file (already stored under its hash) of a problem not yet closed.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_problem_evidence(
        &self,
        actor: &Actor,
        id: i64,
        sha256: &str,
        mime: &str,
        size: i64,
        file_name: &str,
        now: i64,
    ) -> Result<ProblemEvidence> {
        if !actor.role.may(Capability::ReportProblems) {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let p = problem_in(tx.conn(), &actor.scope, id).await?;
        if p.status == ProblemStatus::Verified {
            return Err(StoreError::Conflict(
                Msg::new("problem.error.closed").arg("id", id),
            ));
        }
        let name = crate::stored_file_name(file_name);
        let eid: i64 = sqlx::query(
            "INSERT INTO problem_evidence (problem_id, sha256, mime, size, file_name, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(id)
        .bind(sha256)
        .bind(mime)
        .bind(size)
        .bind(&name)
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "problem_evidence",
                &p.key(),
                &p.village_path,
                json!({"sha256": sha256, "mime": mime, "size": size, "file_name": name}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(ProblemEvidence {
            id: eid,
            problem_id: id,
            sha256: sha256.into(),
            mime: mime.into(),
            size,
            file_name: name,
            uploaded_by: actor.login.clone(),
            uploaded_at: now,
        })
    }

    /// One evidence file of a problem in scope.
    pub async fn problem_evidence(&self, scope: &Scope, id: i64) -> Result<ProblemEvidence> {
        let r = sqlx::query(
            "SELECT e.id, e.problem_id, e.sha256, e.mime, e.size, e.file_name, e.uploaded_by, \
             e.uploaded_at FROM problem_evidence e JOIN problems p ON p.id = e.problem_id \
             WHERE e.id = $1 AND p.village_path >= $2 AND p.village_path < $3",
        )
        .bind(id)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(self.pool())
        .await?
        .ok_or(StoreError::NotFound)?;
        evidence_from_row(&r)
    }

    /// The problems of the villages under a node: the overdue ones most late first, any other
    /// list the newest first.
    pub async fn problems_under(
        &self,
        node: &Node,
        filter: &ProblemFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Problem>> {
        let (where_, binds) = filter_sql(filter);
        let n = binds.len() + 2;
        // The overdue, the latest deadline last (most late first); else the newest. Each order
        // has its index, so a province's list stops after one page instead of sorting millions.
        let sql = format!(
            "SELECT {PROBLEM_COLUMNS} FROM {PROBLEM_FROM} \
             WHERE p.village_path >= $1 AND p.village_path < $2{where_} ORDER BY {} LIMIT ${} OFFSET ${}",
            if filter.overdue {
                "p.deadline, p.id"
            } else {
                "p.id DESC"
            },
            n + 1,
            n + 2
        );
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let q = bind_filter(sqlx::query(&sql).bind(&node.path).bind(upper), binds);
        q.bind(limit)
            .bind(offset)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(problem_from_row)
            .collect()
    }

    /// How many problems `problems_under` lists with `filter`, over every page: the figure a
    /// board shows for that filter.
    pub async fn count_problems_under(&self, node: &Node, filter: &ProblemFilter) -> Result<i64> {
        let (where_, binds) = filter_sql(filter);
        let sql = format!(
            "SELECT COUNT(*) FROM problems p \
             WHERE p.village_path >= $1 AND p.village_path < $2{where_}"
        );
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let q = bind_filter(sqlx::query(&sql).bind(&node.path).bind(upper), binds);
        Ok(q.fetch_one(self.pool()).await?.try_get(0)?)
    }

    /// The overdue problems waiting for one account: those it owns and those of the villages
    /// its leaders guide (联系指导), the most late first, at most `limit`. Each source is read
    /// by its own index (the owner's; each guided area's path), never by scanning every overdue
    /// problem.
    pub async fn overdue_problems_for(&self, user_id: i64, limit: i64) -> Result<Vec<Problem>> {
        let mut found: Vec<Problem> = Vec::new();
        let owned = format!(
            "SELECT {PROBLEM_COLUMNS} FROM {PROBLEM_FROM} WHERE p.owner_user_id = $1 \
             AND {LATE} ORDER BY p.deadline, p.id LIMIT $2"
        );
        for r in sqlx::query(&owned)
            .bind(user_id)
            .bind(limit)
            .fetch_all(self.pool())
            .await?
        {
            found.push(problem_from_row(&r)?);
        }
        let areas: Vec<String> = sqlx::query(
            "SELECT DISTINCT la.org_path FROM leader_areas la JOIN leaders l ON l.id = la.leader_id \
             WHERE l.user_id = $1",
        )
        .bind(user_id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
        let guided = format!(
            "SELECT {PROBLEM_COLUMNS} FROM {PROBLEM_FROM} WHERE {LATE} \
             AND p.village_path >= $1 AND p.village_path < $2 ORDER BY p.deadline, p.id LIMIT $3"
        );
        for path in areas {
            for r in sqlx::query(&guided)
                .bind(&path)
                .bind(baiqian_domain::org::path_upper_bound(&path))
                .bind(limit)
                .fetch_all(self.pool())
                .await?
            {
                let p = problem_from_row(&r)?;
                if !found.iter().any(|f| f.id == p.id) {
                    found.push(p);
                }
            }
        }
        found.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
        found.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(found)
    }
}

/// Binds a filter's values, in the order `filter_sql` numbered them.
fn bind_filter<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    binds: Vec<FilterBind>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    for b in binds {
        q = match b {
            FilterBind::Text(t) => q.bind(t),
            FilterBind::Int(i) => q.bind(i),
        };
    }
    q
}

enum FilterBind {
    Text(String),
    Int(i64),
}

/// A filter's conditions over `problems p`, appended after the node's `$1`/`$2`, with what they
/// bind from `$3` on. Open means open or reopened: a reopened problem is counted as open again
/// (`tally`), so the list behind the figure holds both.
fn filter_sql(filter: &ProblemFilter) -> (String, Vec<FilterBind>) {
    let mut sql = String::new();
    let mut binds = Vec::new();
    let mut n = 2;
    match filter.status {
        Some(ProblemStatus::Open) => sql.push_str(" AND p.status IN ('open', 'reopened')"),
        Some(s) => {
            n += 1;
            sql.push_str(&format!(" AND p.status = ${n}"));
            binds.push(FilterBind::Text(s.as_str().to_string()));
        }
        None => {}
    }
    if filter.overdue {
        sql.push_str(&format!(" AND {LATE}"));
    }
    if filter.unclosed {
        sql.push_str(" AND p.status <> 'verified'");
    }
    if filter.unresolved {
        sql.push_str(" AND p.status IN ('open', 'in_progress', 'reopened')");
    }
    if filter.extended {
        sql.push_str(concat!(" AND ", extended!("p.")));
    }
    if filter.extension_waiting {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM deadline_extensions e WHERE e.problem_id = p.id \
             AND e.status = 'pending')",
        );
    }
    if let Some(id) = filter.survey_id {
        n += 1;
        sql.push_str(&format!(" AND p.survey_id = ${n}"));
        binds.push(FilterBind::Int(id));
    }
    if let Some(g) = &filter.item_group {
        n += 1;
        sql.push_str(&format!(" AND p.item_group = ${n}"));
        binds.push(FilterBind::Text(g.clone()));
    }
    (sql, binds)
}

/// Takes a step on a problem in scope inside the caller's transaction: `Db::problem_step`, and
/// a plan item done that rectifies the problems it serves (`flow`).
pub(crate) async fn step_problem(
    conn: &mut AnyConnection,
    actor: &Actor,
    id: i64,
    step: ProblemStep,
    note: &str,
    now: i64,
) -> Result<Problem> {
    let needed = if step.is_check() {
        Capability::VerifyProblems
    } else {
        Capability::ReportProblems
    };
    if !actor.role.may(needed) {
        return Err(denied());
    }
    let note = if step.needs_note() {
        required(note, 500, "note")?
    } else {
        optional(note, 500, "note")?
    };
    let marked = marked_day(&mut *conn).await?;
    let before = problem_in(&mut *conn, &actor.scope, id).await?;
    if step.is_check() && actor.scope.is_root_path(&before.village_path) {
        // The village does not check its own work.
        return Err(denied());
    }
    let to = before.status.after(step).map_err(StoreError::Conflict)?;
    if step == ProblemStep::Verify {
        // Whoever recorded the rectification (by its step, or by importing a ledger that
        // says it is rectified) does not close it.
        let rectifier: Option<String> = sqlx::query(&format!(
            "SELECT login FROM problem_updates WHERE problem_id = $1 AND {RECTIFICATION_RECORD} \
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        four_eyes(&actor.login, rectifier.as_deref()).map_err(StoreError::Denied)?;
    }
    let standing = before.standing(to, &before.deadline, &marked);
    // The status is the one read: a step taken meanwhile by someone else wins, this fails.
    let n = sqlx::query(
        "UPDATE problems SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(id)
    .bind(before.status.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if n != 1 {
        return Err(StoreError::Conflict(
            Msg::new("problem.error.order")
                .arg("status", before.status.as_str())
                .arg("step", step.as_str()),
        ));
    }
    add_update(
        &mut *conn,
        id,
        now,
        &actor.login,
        step.as_str(),
        (before.status, to),
        &note,
    )
    .await?;
    let after = Problem {
        updated_at: now,
        ..standing
    };
    tally::bump(
        &mut *conn,
        &before.tallied(),
        Some(before.status),
        Some(to),
        tally::Flags::between(&before, &after),
    )
    .await?;
    let mut change = Change::update(
        "problem",
        &before.key(),
        &before.village_path,
        before.audit_json(),
        after.audit_json(),
    );
    // The audit log's action is the step's own name (start, rectify, verify, reopen).
    change.action = step.as_str();
    change.reason = Some(note).filter(|n| !n.is_empty());
    audit::record(&mut *conn, actor, now, change).await?;
    Ok(after)
}

/// A problem checked, written and audited in the caller's transaction (the form's write, and
/// `flow`'s filing of a patrol's issue). The caller has checked the capability.
pub(crate) async fn create_problem_in(
    conn: &mut AnyConnection,
    actor: &Actor,
    new: &NewProblem,
    now: i64,
) -> Result<i64> {
    let today = china_date(now);
    let checked = check_problem(&mut *conn, actor, new, &today).await?;
    if let Some(visit) = checked.visit_id {
        visit::check_visit_place(&mut *conn, &actor.scope, visit, &checked.village.path).await?;
    }
    if !actor.role.may(Capability::ReportProblems) {
        // A leader turns only their own visit's findings into problems.
        let visit = checked.visit_id.ok_or_else(denied)?;
        visit::check_own_visit(&mut *conn, actor, visit).await?;
    }
    if let Some(survey) = checked.survey_id {
        survey::check_survey_village(&mut *conn, survey, checked.village.code.as_str()).await?;
    }
    let marked = marked_day(&mut *conn).await?;
    let id = insert_problem(&mut *conn, &actor.login, &checked, &marked, now).await?;
    audit::record(
        &mut *conn,
        actor,
        now,
        Change::create(
            "problem",
            &format!("#{id} {}", checked.village.code.as_str()),
            &checked.village.path,
            json!({
                "village": checked.village.code, "source": checked.source.as_str(),
                "item_code": checked.item_code, "description": checked.description,
                "owner_name": checked.owner_name, "owner_user_id": checked.owner_user_id,
                "measures": checked.measures, "deadline": checked.deadline,
                "found_on": checked.found_on, "status": "open",
            }),
        ),
    )
    .await?;
    Ok(id)
}
