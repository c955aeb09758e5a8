//! The campaign's planning (专项行动): the campaign with its years, its yearly targets and the
//! whole-township advancement rule, all kept as data; the standing of every node against them,
//! counted from the ratings each time it is asked (`standing`); model townships designated
//! among the advanced ones, with a reason; and the cascaded plans (`plans`) the levels write
//! and the level above approves.

mod import;
mod plans;
mod projects;
mod serving;
mod standing;

pub use import::PlanItemRow;
pub(crate) use plans::mark_item_done;
pub use plans::{NewPlanItem, Plan, PlanDecision, PlanItem, PlanStep, PlanSummary, WaitingPlan};
pub use projects::{NewProject, Project, ProjectVillage};
pub use serving::ItemProblem;
pub(crate) use serving::item_problems;
pub(crate) use standing::StandingsMemo;
pub use standing::{NodeStanding, StandingsReads, TownshipStanding, VillageStanding};

use baiqian_domain::Msg;
use baiqian_domain::org::{Level, OrgCode};
use baiqian_domain::plan::{AdvancementRule, TargetMeasure};
use baiqian_domain::role::Role;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::kernel::{Node, TreeEvent};
use crate::{Actor, Db, Result, StoreError};

/// A campaign (专项行动) of a city: its years and the rule of whole-township advancement.
#[derive(Debug, Clone, Serialize)]
pub struct Campaign {
    pub id: i64,
    pub org_code: String,
    pub org_path: String,
    pub name: String,
    pub first_year: i64,
    pub last_year: i64,
    pub rule: AdvancementRule,
    /// Every year's targets, by year then in `TargetMeasure::ALL` order.
    pub targets: Vec<Target>,
}

impl Campaign {
    pub fn targets_of(&self, year: i64) -> impl Iterator<Item = &Target> {
        self.targets.iter().filter(move |t| t.year == year)
    }

    /// The years with targets, in order.
    pub fn target_years(&self) -> Vec<i64> {
        let mut years: Vec<i64> = self.targets.iter().map(|t| t.year).collect();
        years.dedup();
        years
    }
}

/// A target (目标) of a year: the goal for the campaign's whole area, due on a day.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub year: i64,
    pub measure: TargetMeasure,
    pub goal: i64,
    pub due: String,
}

/// A campaign as its city opens it.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub first_year: i64,
    pub last_year: i64,
    pub rule: AdvancementRule,
}

/// A model township (先进乡镇) and why it was named.
#[derive(Debug, Clone, Serialize)]
pub struct ModelTownship {
    pub org_code: String,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: i64,
}

fn invalid(key: &'static str) -> StoreError {
    StoreError::Invalid(Msg::new(key))
}

fn campaign_from_row(r: &AnyRow) -> Result<Campaign> {
    Ok(Campaign {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_path: r.try_get("org_path")?,
        name: r.try_get("name")?,
        first_year: r.try_get("first_year")?,
        last_year: r.try_get("last_year")?,
        rule: AdvancementRule {
            min_stars: r.try_get("advance_min_stars")?,
            none_lagging: r.try_get::<i64, _>("advance_none_lagging")? != 0,
            scheme_done: r.try_get::<i64, _>("advance_scheme_done")? != 0,
        },
        targets: Vec::new(),
    })
}

async fn load_targets(conn: &mut AnyConnection, c: &mut Campaign) -> Result<()> {
    let rows = sqlx::query(
        "SELECT year, measure, goal, due FROM campaign_targets WHERE campaign_id = $1 ORDER BY year",
    )
    .bind(c.id)
    .fetch_all(&mut *conn)
    .await?;
    let mut targets = Vec::with_capacity(rows.len());
    for r in rows {
        let measure: String = r.try_get("measure")?;
        targets.push(Target {
            year: r.try_get("year")?,
            measure: TargetMeasure::parse(&measure)
                .ok_or_else(|| StoreError::Corrupt(format!("target measure {measure}")))?,
            goal: r.try_get("goal")?,
            due: r.try_get("due")?,
        });
    }
    let order = |m: TargetMeasure| TargetMeasure::ALL.iter().position(|x| *x == m);
    targets.sort_by_key(|t| (t.year, order(t.measure)));
    c.targets = targets;
    Ok(())
}

const CAMPAIGN_COLUMNS: &str = "id, org_code, org_path, name, first_year, last_year, \
    advance_min_stars, advance_none_lagging, advance_scheme_done";

impl Db {
    /// The campaign whose area holds a node (the newest, should a city have run two).
    pub async fn campaign_for(&self, node: &Node) -> Result<Option<Campaign>> {
        let mut conn = self.pool().acquire().await?;
        let row = sqlx::query(&format!(
            "SELECT {CAMPAIGN_COLUMNS} FROM campaigns \
             WHERE substr($1, 1, length(org_path)) = org_path ORDER BY first_year DESC LIMIT 1"
        ))
        .bind(&node.path)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let mut c = campaign_from_row(&row)?;
        load_targets(&mut conn, &mut c).await?;
        Ok(Some(c))
    }

    /// Opens a campaign over the city admin's whole area.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        new: NewCampaign,
        now: i64,
    ) -> Result<Campaign> {
        if actor.role != Role::CityAdmin {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let name = new.name.trim();
        if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
            return Err(invalid("plan.error.name"));
        }
        if !(2000..=2100).contains(&new.first_year)
            || !(new.first_year..=new.first_year + 10).contains(&new.last_year)
        {
            return Err(invalid("plan.error.years"));
        }
        if !(1..=5).contains(&new.rule.min_stars) {
            return Err(invalid("plan.error.min_stars"));
        }
        let root = actor.scope.root.clone().ok_or(StoreError::NotFound)?;
        let node = self.org(&actor.scope, &root).await?;
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO campaigns (org_code, org_path, name, first_year, last_year, \
             advance_min_stars, advance_none_lagging, advance_scheme_done, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(name)
        .bind(new.first_year)
        .bind(new.last_year)
        .bind(new.rule.min_stars)
        .bind(i64::from(new.rule.none_lagging))
        .bind(i64::from(new.rule.scheme_done))
        .bind(now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| crate::on_unique(e, Msg::new("plan.error.exists")))?
        .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "campaign",
                &id.to_string(),
                &node.path,
                serde_json::json!({
                    "name": name, "first_year": new.first_year, "last_year": new.last_year,
                    "advance_min_stars": new.rule.min_stars,
                    "advance_none_lagging": new.rule.none_lagging,
                    "advance_scheme_done": new.rule.scheme_done,
                }),
            ),
        )
        .await?;
        tx.commit().await?;
        self.campaign_for(&node).await?.ok_or(StoreError::NotFound)
    }

    /// Sets a year's target for the campaign's whole area (replacing the year's goal for that
    /// measure; the change is audited with what it was).
    pub async fn set_target(
        &self,
        actor: &Actor,
        campaign: &Campaign,
        target: &Target,
        now: i64,
    ) -> Result<()> {
        if actor.role != Role::CityAdmin || !actor.scope.contains_path(&campaign.org_path) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        if !(campaign.first_year..=campaign.last_year).contains(&target.year) {
            return Err(invalid("plan.error.years"));
        }
        if !target.measure.goal_is_valid(target.goal) {
            return Err(invalid("plan.error.goal"));
        }
        if baiqian_domain::time::day_start_ms(&target.due).is_none()
            || !target.due.starts_with(&target.year.to_string())
        {
            return Err(invalid("plan.error.due"));
        }
        let mut tx = self.write().await?;
        let before = sqlx::query(
            "SELECT goal, due FROM campaign_targets WHERE campaign_id = $1 AND year = $2 AND measure = $3",
        )
        .bind(campaign.id)
        .bind(target.year)
        .bind(target.measure.as_str())
        .fetch_optional(tx.conn())
        .await?
        .map(|r| -> Result<serde_json::Value> {
            Ok(serde_json::json!({
                "goal": r.try_get::<i64, _>("goal")?, "due": r.try_get::<String, _>("due")?,
            }))
        })
        .transpose()?;
        sqlx::query(
            "DELETE FROM campaign_targets WHERE campaign_id = $1 AND year = $2 AND measure = $3",
        )
        .bind(campaign.id)
        .bind(target.year)
        .bind(target.measure.as_str())
        .execute(tx.conn())
        .await?;
        sqlx::query(
            "INSERT INTO campaign_targets (campaign_id, year, measure, goal, due) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(campaign.id)
        .bind(target.year)
        .bind(target.measure.as_str())
        .bind(target.goal)
        .bind(&target.due)
        .execute(tx.conn())
        .await?;
        let key = format!(
            "{} {} {}",
            campaign.id,
            target.year,
            target.measure.as_str()
        );
        let after = serde_json::json!({ "goal": target.goal, "due": target.due });
        let change = match before {
            Some(b) => Change::update("campaign_target", &key, &campaign.org_path, b, after),
            None => Change::create("campaign_target", &key, &campaign.org_path, after),
        };
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Names a township a model township (先进乡镇) of a year: by the campaign's city, with a
    /// reason, and only a township advanced by the rule in that year.
    pub async fn designate_model_township(
        &self,
        actor: &Actor,
        campaign: &Campaign,
        year: i64,
        township: &OrgCode,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        if actor.role != Role::CityAdmin || !actor.scope.contains_path(&campaign.org_path) {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let reason = reason.trim();
        if reason.chars().count() < 2
            || reason.chars().count() > 500
            || reason.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(invalid("plan.error.reason"));
        }
        let node = self.org(&actor.scope, township).await?;
        if node.level != Level::Township || node.is_retired() {
            return Err(invalid("plan.error.not_township"));
        }
        if !(campaign.first_year..=campaign.last_year).contains(&year) {
            return Err(invalid("plan.error.years"));
        }
        let standing = self.township_standings(campaign, &node, year).await?;
        if !standing.first().is_some_and(|t| t.advanced) {
            return Err(StoreError::Conflict(
                Msg::new("plan.error.not_advanced").arg("name", &node.name),
            ));
        }
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO model_townships (campaign_id, year, org_code, org_path, reason, \
             decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(campaign.id)
        .bind(year)
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(reason)
        .bind(&actor.login)
        .bind(now)
        .execute(tx.conn())
        .await
        // Named once a year: a second naming is a conflict with the first, not bad input.
        .map_err(
            |e| match crate::on_unique(e, Msg::new("plan.error.already_model")) {
                StoreError::Invalid(m) => StoreError::Conflict(m),
                other => other,
            },
        )?;
        let mut change = Change::create(
            "model_township",
            &format!("{} {year}", node.code.as_str()),
            &node.path,
            serde_json::json!({ "year": year, "name": node.name }),
        );
        change.reason = Some(reason.to_string());
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Follows the tree (`kernel::TreeEvent`) in the tree writer's transaction: records carry
/// their node's path.
pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        if let TreeEvent::Moved { old_path, new_path } = *event {
            for (table, column) in [
                ("campaigns", "org_path"),
                ("model_townships", "org_path"),
                ("plans", "org_path"),
                ("projects", "org_path"),
                ("project_villages", "village_path"),
            ] {
                crate::kernel::move_paths(&mut *conn, table, column, old_path, new_path).await?;
            }
        }
        Ok(())
    })
}
