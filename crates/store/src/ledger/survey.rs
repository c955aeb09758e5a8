//! A township's survey (排摸) of its villages against chosen standards, each village guided by
//! one of the township's leaders (联系指导); its progress is villages done / to do.

use baiqian_domain::Msg;
use baiqian_domain::org::{Level, OrgCode, path_upper_bound};
use baiqian_domain::scope::Scope;
use serde::Serialize;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::{date, denied, required};
use crate::audit::{self, Change};
use crate::kernel::{Node, org_in_scope};
use crate::{Actor, Db, Result, StoreError};

/// A survey as started: its villages, each with the leader who guides it (or none).
#[derive(Debug, Clone, Default)]
pub struct NewSurvey {
    pub township: String,
    pub title: String,
    /// The standards it surveys against, as officials name them.
    pub basis: String,
    pub started_on: String,
    /// Each village: its code, the leader who guides it, the day it was surveyed (if done).
    pub villages: Vec<(String, Option<i64>, Option<String>)>,
}

/// A survey with its progress.
#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    pub id: i64,
    pub township_code: String,
    pub township_name: String,
    pub title: String,
    pub basis: String,
    pub started_on: String,
    pub villages: i64,
    pub done: i64,
    pub problems: i64,
}

/// A village of a survey.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyVillage {
    pub village_code: String,
    pub village_name: String,
    pub leader_name: Option<String>,
    pub done_on: Option<String>,
    pub problems: i64,
}

/// One village of one survey, as a survey list writes it (排摸台账): the export's row.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyLine {
    pub township_name: String,
    pub title: String,
    pub basis: String,
    pub started_on: String,
    pub village_name: String,
    pub leader_name: Option<String>,
    pub done_on: Option<String>,
    pub problems: i64,
}

/// Checks that a village is one of a survey's.
pub(super) async fn check_survey_village(
    conn: &mut AnyConnection,
    survey_id: i64,
    village_code: &str,
) -> Result<()> {
    sqlx::query("SELECT 1 FROM survey_villages WHERE survey_id = $1 AND village_code = $2")
        .bind(survey_id)
        .bind(village_code)
        .fetch_optional(conn)
        .await?
        .map(|_| ())
        .ok_or_else(|| {
            StoreError::Invalid(Msg::new("survey.error.village").arg("code", village_code))
        })
}

impl Db {
    /// Starts a township's survey of villages of its own, each leader one of the township's.
    pub async fn create_survey(&self, actor: &Actor, new: &NewSurvey, now: i64) -> Result<i64> {
        if !actor.role.is_admin() {
            return Err(denied());
        }
        let title = required(&new.title, 100, "title")?;
        let basis = required(&new.basis, 500, "basis")?;
        let started_on = date(&new.started_on, "started_on")?;
        let township =
            OrgCode::parse(new.township.trim()).map_err(|e| StoreError::Invalid(e.msg()))?;
        let mut tx = self.write().await?;
        let node = org_in_scope(tx.conn(), &actor.scope, &township).await?;
        if node.level != Level::Township {
            return Err(StoreError::Invalid(
                Msg::new("survey.error.township").arg("code", township.as_str()),
            ));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO surveys (township_code, township_path, title, basis, started_on, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&title)
        .bind(&basis)
        .bind(&started_on)
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| crate::on_unique(e, Msg::new("survey.error.exists").arg("title", &title)))?
        .try_get(0)?;
        let upper = path_upper_bound(&node.path);
        for (code, leader, done_on) in &new.villages {
            let done_on = match done_on {
                Some(d) => Some(date(d, "done_on")?),
                None => None,
            };
            let village = super::village_in_scope(tx.conn(), &actor.scope, code).await?;
            if !(village.path > node.path && village.path < upper) {
                return Err(StoreError::Invalid(
                    Msg::new("survey.error.village").arg("code", code),
                ));
            }
            if let Some(l) = leader {
                sqlx::query("SELECT 1 FROM leaders WHERE id = $1 AND org_path = $2")
                    .bind(l)
                    .bind(&node.path)
                    .fetch_optional(tx.conn())
                    .await?
                    .ok_or_else(|| {
                        StoreError::Invalid(Msg::new("visit.error.leader").arg("id", l))
                    })?;
            }
            sqlx::query(
                "INSERT INTO survey_villages (survey_id, village_code, village_path, leader_id, done_on) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(village.code.as_str())
            .bind(&village.path)
            .bind(leader)
            .bind(&done_on)
            .execute(tx.conn())
            .await
            .map_err(|e| crate::on_unique(e, Msg::new("survey.error.village").arg("code", code)))?;
        }
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "survey",
                &format!("#{id} {title}"),
                &node.path,
                json!({"title": title, "basis": basis, "started_on": started_on,
                       "villages": new.villages.len()}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Marks a survey's village as surveyed on `on`.
    pub async fn finish_survey_village(
        &self,
        actor: &Actor,
        survey_id: i64,
        village: &OrgCode,
        on: &str,
        now: i64,
    ) -> Result<()> {
        if !actor.role.is_admin() {
            return Err(denied());
        }
        let on = date(on, "done_on")?;
        let mut tx = self.write().await?;
        let path: String = sqlx::query(
            "SELECT village_path FROM survey_villages WHERE survey_id = $1 AND village_code = $2 \
             AND village_path >= $3 AND village_path < $4",
        )
        .bind(survey_id)
        .bind(village.as_str())
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?
        .try_get(0)?;
        sqlx::query(
            "UPDATE survey_villages SET done_on = $1 WHERE survey_id = $2 AND village_code = $3",
        )
        .bind(&on)
        .bind(survey_id)
        .bind(village.as_str())
        .execute(tx.conn())
        .await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::update(
                "survey_village",
                &format!("#{survey_id} {}", village.as_str()),
                &path,
                json!({"done_on": null}),
                json!({"done_on": on}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The surveys of townships under a node, the newest first, with their progress.
    pub async fn surveys_under(&self, node: &Node) -> Result<Vec<Survey>> {
        self.surveys_where(&node.path, &path_upper_bound(&node.path), None)
            .await
    }

    /// One survey of a township in scope, with its progress.
    pub async fn survey(&self, scope: &Scope, id: i64) -> Result<Survey> {
        self.surveys_where(scope.lower(), scope.upper(), Some(id))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    async fn surveys_where(
        &self,
        lower: &str,
        upper: &str,
        id: Option<i64>,
    ) -> Result<Vec<Survey>> {
        let one = if id.is_some() { " AND s.id = $3" } else { "" };
        let sql = format!(
            "SELECT s.id, s.township_code, o.name AS township_name, s.title, s.basis, s.started_on, \
             (SELECT COUNT(*) FROM survey_villages sv WHERE sv.survey_id = s.id) AS villages, \
             (SELECT COUNT(*) FROM survey_villages sv WHERE sv.survey_id = s.id AND sv.done_on IS NOT NULL) AS done, \
             (SELECT COUNT(*) FROM problems p WHERE p.survey_id = s.id) AS problems \
             FROM surveys s JOIN orgs o ON o.code = s.township_code \
             WHERE s.township_path >= $1 AND s.township_path < $2{one} \
             ORDER BY s.started_on DESC, s.id DESC"
        );
        let mut q = sqlx::query(&sql).bind(lower).bind(upper);
        if let Some(id) = id {
            q = q.bind(id);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(Survey {
                    id: r.try_get("id")?,
                    township_code: r.try_get("township_code")?,
                    township_name: r.try_get("township_name")?,
                    title: r.try_get("title")?,
                    basis: r.try_get("basis")?,
                    started_on: r.try_get("started_on")?,
                    villages: r.try_get("villages")?,
                    done: r.try_get("done")?,
                    problems: r.try_get("problems")?,
                })
            })
            .collect()
    }

    /// Every village of every survey of the townships under `node`, survey by survey.
    pub async fn survey_lines_under(&self, node: &Node) -> Result<Vec<SurveyLine>> {
        sqlx::query(
            "SELECT o.name AS township_name, s.title, s.basis, s.started_on, v.name AS village_name, \
             l.name AS leader_name, sv.done_on, \
             (SELECT COUNT(*) FROM problems p WHERE p.survey_id = s.id \
              AND p.village_code = sv.village_code) AS problems \
             FROM survey_villages sv JOIN surveys s ON s.id = sv.survey_id \
             JOIN orgs o ON o.code = s.township_code JOIN orgs v ON v.code = sv.village_code \
             LEFT JOIN leaders l ON l.id = sv.leader_id \
             WHERE s.township_path >= $1 AND s.township_path < $2 \
             ORDER BY s.township_path, s.started_on, s.id, sv.village_path",
        )
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(SurveyLine {
                township_name: r.try_get("township_name")?,
                title: r.try_get("title")?,
                basis: r.try_get("basis")?,
                started_on: r.try_get("started_on")?,
                village_name: r.try_get("village_name")?,
                leader_name: r.try_get("leader_name")?,
                done_on: r.try_get("done_on")?,
                problems: r.try_get("problems")?,
            })
        })
        .collect()
    }

    /// The villages of a survey whose township is under `node`, with their guides and problems.
    pub async fn survey_villages(&self, node: &Node, survey_id: i64) -> Result<Vec<SurveyVillage>> {
        sqlx::query(
            "SELECT sv.village_code, o.name AS village_name, l.name AS leader_name, sv.done_on, \
             (SELECT COUNT(*) FROM problems p WHERE p.survey_id = sv.survey_id \
              AND p.village_code = sv.village_code) AS problems \
             FROM survey_villages sv JOIN surveys s ON s.id = sv.survey_id \
             JOIN orgs o ON o.code = sv.village_code LEFT JOIN leaders l ON l.id = sv.leader_id \
             WHERE sv.survey_id = $1 AND s.township_path >= $2 AND s.township_path < $3 \
             ORDER BY sv.village_path",
        )
        .bind(survey_id)
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(SurveyVillage {
                village_code: r.try_get("village_code")?,
                village_name: r.try_get("village_name")?,
                leader_name: r.try_get("leader_name")?,
                done_on: r.try_get("done_on")?,
                problems: r.try_get("problems")?,
            })
        })
        .collect()
    }
}
