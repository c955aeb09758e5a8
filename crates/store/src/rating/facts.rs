//! The village facts a rating reads (collective income, beautiful-village status, featured
//! practices) and their import, and the pioneer check's inputs.

use super::*;
use baiqian_domain::money::Fen;

pub(super) fn practice_from_row(r: &AnyRow) -> Result<FeaturedPractice> {
    let level: String = r.try_get("promoted_level")?;
    Ok(FeaturedPractice {
        id: r.try_get("id")?,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("name")?,
        year: r.try_get("year")?,
        title: r.try_get("title")?,
        level: PromotionLevel::parse(&level)
            .ok_or_else(|| StoreError::Corrupt(format!("practice level {level}")))?,
    })
}

/// Pioneer facts of one village for a year (stars filled in by the caller).
pub(super) async fn facts_of(
    conn: &mut AnyConnection,
    code: &str,
    year: i64,
) -> Result<PioneerFacts> {
    let r = sqlx::query(
        "SELECT \
         (SELECT COUNT(*) FROM featured_practices p WHERE p.org_code = $1 AND p.year <= $2 \
            AND p.promoted_level IN ('township', 'county', 'city', 'province')) AS practices, \
         (SELECT COUNT(*) FROM beautiful_villages b WHERE b.org_code = $1 AND b.year <= $2 \
            AND b.level IN ('city', 'province')) AS beautiful, \
         (SELECT MAX(c.income_fen) FROM collective_incomes c WHERE c.org_code = $1 AND c.year = $2) AS income",
    )
    .bind(code)
    .bind(year)
    .fetch_one(conn)
    .await?;
    Ok(PioneerFacts {
        stars: 0,
        promoted_practice: r.try_get::<i64, _>("practices")? > 0,
        beautiful_village: r.try_get::<i64, _>("beautiful")? > 0,
        income_fen: r.try_get::<Option<i64>, _>("income")?.map(Fen),
    })
}

impl Db {
    /// The pioneer facts of a village for a year, with its stars filled in by the caller.
    pub async fn pioneer_facts(&self, village: &Node, year: i64) -> Result<PioneerFacts> {
        let mut conn = self.pool().acquire().await?;
        facts_of(&mut conn, village.code.as_str(), year).await
    }

    /// The pioneer-criteria data of the villages under a node for a year.
    pub async fn village_facts(&self, node: &Node, year: i64) -> Result<Vec<VillageFacts>> {
        let path = node.path.as_str();
        let upper = baiqian_domain::org::path_upper_bound(path);
        let rows = sqlx::query(
            "SELECT o.code, o.name, \
             (SELECT MAX(c.income_fen) FROM collective_incomes c WHERE c.org_code = o.code AND c.year = $3) AS income, \
             b.level AS b_level, b.year AS b_year \
             FROM orgs o LEFT JOIN beautiful_villages b ON b.org_code = o.code \
             WHERE o.level = 'village' AND o.retired_at IS NULL AND o.path >= $1 AND o.path < $2 \
             ORDER BY o.path",
        )
        .bind(path)
        .bind(&upper)
        .bind(year)
        .fetch_all(self.pool())
        .await?;
        let practices = sqlx::query(
            "SELECT p.id, p.org_code, o.name, p.year, p.title, p.promoted_level FROM featured_practices p \
             JOIN orgs o ON o.code = p.org_code WHERE p.org_path >= $1 AND p.org_path < $2 AND p.year <= $3 \
             ORDER BY p.year, p.id",
        )
        .bind(path)
        .bind(&upper)
        .bind(year)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(practice_from_row)
        .collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let code: String = r.try_get("code")?;
            let beautiful = match (
                r.try_get::<Option<String>, _>("b_level")?,
                r.try_get::<Option<i64>, _>("b_year")?,
            ) {
                (Some(l), Some(y)) => PromotionLevel::parse(&l).map(|l| (l, y)),
                _ => None,
            };
            out.push(VillageFacts {
                practices: practices
                    .iter()
                    .filter(|p| p.org_code == code)
                    .cloned()
                    .collect(),
                org_name: r.try_get("name")?,
                income_fen: r.try_get::<Option<i64>, _>("income")?.map(Fen),
                beautiful,
                org_code: code,
            });
        }
        Ok(out)
    }

    /// Imports the facts sheet of a year: income, beautiful-village status and featured
    /// practices per village. Every bad row is reported; `GoodRowsOnly` writes exactly the good
    /// ones, otherwise nothing is written when any row is bad. Classes of the year are re-rated.
    pub async fn import_village_facts(
        &self,
        actor: &Actor,
        year: i64,
        rows: &[FactsRow],
        mode: crate::import::ImportMode,
        now: i64,
    ) -> Result<crate::import::ImportOutcome> {
        use crate::import::{ImportError, ImportMode, ImportOutcome};
        if !actor.role.is_admin() {
            return Err(denied());
        }
        if !(2000..=2100).contains(&year) {
            return Err(StoreError::Invalid(Msg::new("rating.error.year")));
        }
        let mut tx = self.write().await?;
        let mut errors = Vec::new();
        let mut good = Vec::new();
        for r in rows {
            let mut errs = Vec::new();
            let err = |column: &'static str, msg: Msg| ImportError {
                row: r.row,
                column,
                msg,
            };
            let path = sqlx::query(
                "SELECT path FROM orgs WHERE code = $1 AND level = 'village' AND retired_at IS NULL \
                 AND path >= $2 AND path < $3",
            )
            .bind(r.code.trim())
            .bind(actor.scope.lower())
            .bind(actor.scope.upper())
            .fetch_optional(tx.conn())
            .await?
            .map(|row| row.try_get::<String, _>(0))
            .transpose()?;
            if path.is_none() {
                errs.push(err(
                    "code",
                    Msg::new("rating.error.village").arg("code", r.code.trim()),
                ));
            }
            let income = match r.income.trim() {
                "" => None,
                s => match Fen::parse_yuan(s) {
                    Ok(v) => Some(v),
                    Err(m) => {
                        errs.push(err("income", m));
                        None
                    }
                },
            };
            let beautiful = match (r.beautiful_level.trim(), r.beautiful_year.trim()) {
                ("", "") => None,
                (l, y) => {
                    let level = PromotionLevel::parse(l);
                    if level.is_none() {
                        errs.push(err(
                            "beautiful_level",
                            Msg::new("rating.error.level").arg("value", l),
                        ));
                    }
                    let by = y.parse::<i64>().ok().filter(|v| (1990..=year).contains(v));
                    if by.is_none() {
                        errs.push(err(
                            "beautiful_year",
                            Msg::new("rating.error.beautiful_year").arg("year", year),
                        ));
                    }
                    level.zip(by)
                }
            };
            let practice = match (r.practice.trim(), r.practice_level.trim()) {
                ("", "") => None,
                (t, l) => {
                    let title = baiqian_domain::org::parse_name(t);
                    if let Err(e) = &title {
                        errs.push(err("practice", e.msg()));
                    }
                    let level = PromotionLevel::parse(l);
                    if level.is_none() {
                        errs.push(err(
                            "practice_level",
                            Msg::new("rating.error.level").arg("value", l),
                        ));
                    }
                    title.ok().zip(level)
                }
            };
            if errs.is_empty()
                && let Some(path) = path
            {
                good.push((r.code.trim().to_string(), path, income, beautiful, practice));
            } else {
                errors.append(&mut errs);
            }
        }
        if !errors.is_empty() && mode == ImportMode::AllOrNothing {
            return Ok(ImportOutcome {
                errors,
                ..Default::default()
            });
        }
        let mut out = ImportOutcome {
            errors,
            ..Default::default()
        };
        for (code, path, income, beautiful, practice) in &good {
            let mut changed = false;
            if let Some(fen) = income {
                let n = sqlx::query(
                    "INSERT INTO collective_incomes (org_code, org_path, year, income_fen, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_code, year) DO UPDATE \
                     SET income_fen = $4, updated_at = $5 WHERE collective_incomes.income_fen <> $4",
                )
                .bind(code)
                .bind(path)
                .bind(year)
                .bind(fen.0)
                .bind(now)
                .execute(tx.conn())
                .await?
                .rows_affected();
                changed |= n > 0;
            }
            if let Some((level, by)) = beautiful {
                let n = sqlx::query(
                    "INSERT INTO beautiful_villages (org_code, org_path, level, year, updated_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_code) DO UPDATE \
                     SET level = $3, year = $4, updated_at = $5 \
                     WHERE beautiful_villages.level <> $3 OR beautiful_villages.year <> $4",
                )
                .bind(code)
                .bind(path)
                .bind(level.as_str())
                .bind(*by)
                .bind(now)
                .execute(tx.conn())
                .await?
                .rows_affected();
                changed |= n > 0;
            }
            if let Some((title, level)) = practice {
                let n = sqlx::query(
                    "INSERT INTO featured_practices (org_code, org_path, year, title, promoted_level, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_code, year, title) DO UPDATE \
                     SET promoted_level = $5 WHERE featured_practices.promoted_level <> $5",
                )
                .bind(code)
                .bind(path)
                .bind(year)
                .bind(title)
                .bind(level.as_str())
                .bind(now)
                .execute(tx.conn())
                .await?
                .rows_affected();
                changed |= n > 0;
            }
            if changed {
                out.updated += 1;
                audit::record(
                    tx.conn(),
                    actor,
                    now,
                    Change::update(
                        "village_facts",
                        &format!("{code} {year}"),
                        path,
                        serde_json::Value::Null,
                        serde_json::json!({
                            "income_fen": income,
                            "beautiful": beautiful.map(|(l, y)| serde_json::json!({"level": l.as_str(), "year": y})),
                            "practice": practice.as_ref().map(|(t, l)| serde_json::json!({"title": t, "level": l.as_str()})),
                        }),
                    ),
                )
                .await?;
            } else {
                out.unchanged += 1;
            }
        }
        if out.updated > 0 {
            let rounds = sqlx::query(&format!(
                "SELECT {ROUND_COLUMNS} FROM rating_rounds WHERE year = $1 AND published_at IS NULL"
            ))
            .bind(year)
            .fetch_all(tx.conn())
            .await?
            .iter()
            .map(round_from_row)
            .collect::<Result<Vec<_>>>()?;
            for round in rounds {
                rerate(tx.conn(), &round, now).await?;
            }
        }
        tx.commit().await?;
        out.committed = true;
        Ok(out)
    }
}
