//! Re-rating (重新评定) when a round's rules change, and the bulk scoring the benchmarks and
//! the demo use; the per-node tallies the boards read.

use super::*;
use std::sync::Arc;

/// Re-rates every scored assessment of a round with its current rules; writes only what moved.
pub(super) async fn rerate(conn: &mut AnyConnection, round: &Round, now: i64) -> Result<Moves> {
    // One row per village would cost a driver hand-off each (the bulk of the time at province
    // scale), and a correlated look-up per village for each fact is slower than one scan of
    // each fact table: so the villages come packed in one text value (`string_agg` and
    // `format` exist on both backends) and the facts as three scans of the round's subtree.
    let packed = packed_text(
        conn,
        "SELECT string_agg(format('%s,%s,%s,%s,%s,%s,%s', a.id, a.org_code, a.total, \
           a.full_total, a.veto_failed, COALESCE(a.stars, 0), COALESCE(a.class, '-')), ';') \
         FROM assessments a WHERE a.round_id = $1 AND a.total IS NOT NULL",
        round.id,
        round,
    )
    .await?;
    let practices = packed_text(
        conn,
        "SELECT string_agg(org_code, ',') FROM featured_practices WHERE year <= $1 \
         AND promoted_level IN ('township', 'county', 'city', 'province') \
         AND org_path >= $2 AND org_path < $3",
        round.year,
        round,
    )
    .await?;
    let beautiful = packed_text(
        conn,
        "SELECT string_agg(org_code, ',') FROM beautiful_villages WHERE year <= $1 \
         AND level IN ('city', 'province') AND org_path >= $2 AND org_path < $3",
        round.year,
        round,
    )
    .await?;
    let incomes = packed_text(
        conn,
        "SELECT string_agg(format('%s:%s', org_code, income_fen), ',') FROM collective_incomes \
         WHERE year = $1 AND org_path >= $2 AND org_path < $3",
        round.year,
        round,
    )
    .await?;
    let practices: std::collections::HashSet<&str> = practices.split(',').collect();
    let beautiful: std::collections::HashSet<&str> = beautiful.split(',').collect();
    let mut income_of: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    for pair in incomes.split(',').filter(|p| !p.is_empty()) {
        let (code, fen) = pair
            .split_once(':')
            .ok_or_else(|| StoreError::Corrupt(format!("income {pair}")))?;
        let fen: i64 = fen
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("income {pair}")))?;
        income_of.insert(code, fen);
    }
    let corrupt = |what: &str| StoreError::Corrupt(format!("re-rating row: {what}"));
    let mut moves = Moves::default();
    let mut listed: Vec<String> = Vec::new();
    // Changed ids grouped by their new (stars, class): one UPDATE per group and chunk.
    let mut groups: std::collections::BTreeMap<(i64, &'static str), Vec<i64>> =
        std::collections::BTreeMap::new();
    for rec in packed.split(';').filter(|r| !r.is_empty()) {
        let f: Vec<&str> = rec.split(',').collect();
        let [id, code, total, full, veto, stars_before, class_before] = f[..] else {
            return Err(corrupt(rec));
        };
        let num = |s: &str| s.parse::<i64>().map_err(|_| corrupt(rec));
        moves.rerated += 1;
        let veto_failed = veto == "1";
        let stars = round.thresholds.stars(num(total)?, num(full)?, veto_failed);
        let facts = PioneerFacts {
            stars,
            promoted_practice: practices.contains(code),
            beautiful_village: beautiful.contains(code),
            income_fen: income_of.get(code).copied().map(baiqian_domain::money::Fen),
        };
        let class = classify(&facts, veto_failed, round.lagging);
        let before_stars = Some(num(stars_before)?).filter(|s| *s > 0);
        let before_class = VillageClass::parse(class_before);
        if before_stars == Some(stars) && before_class == Some(class) {
            continue;
        }
        match before_stars {
            Some(b) if stars > b => moves.stars_up += 1,
            Some(b) if stars < b => moves.stars_down += 1,
            _ => {}
        }
        if before_class != Some(class) {
            moves.class_changed += 1;
        }
        if moves.moved.len() < MOVES_LISTED {
            listed.push(code.to_string());
            moves.moved.push(Move {
                org_code: code.to_string(),
                org_name: String::new(),
                stars_before: before_stars,
                stars_after: stars,
                class_before: before_class,
                class_after: class,
            });
        }
        groups
            .entry((stars, class.as_str()))
            .or_default()
            .push(num(id)?);
    }
    if !listed.is_empty() {
        let marks: Vec<String> = (1..=listed.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT code, name FROM orgs WHERE code IN ({})",
            marks.join(",")
        );
        let mut q = sqlx::query(&sql);
        for c in &listed {
            q = q.bind(c);
        }
        let names: std::collections::HashMap<String, String> = q
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        for m in &mut moves.moved {
            m.org_name = names.get(&m.org_code).cloned().unwrap_or_default();
        }
    }
    for ((stars, class), ids) in groups {
        for chunk in ids.chunks(crate::bulk::IN_LIST) {
            let sql = format!(
                "UPDATE assessments SET stars = $1, class = $2, updated_at = $3 WHERE id IN ({})",
                crate::bulk::list(4, chunk.len())
            );
            let mut q = sqlx::query(&sql).bind(stars).bind(class).bind(now);
            for id in chunk {
                q = q.bind(*id);
            }
            q.execute(&mut *conn).await?;
        }
    }
    Ok(moves)
}

/// The one text value of an aggregate query bound to `(first, round path range)`; empty when no
/// row matched.
pub(super) async fn packed_text(
    conn: &mut AnyConnection,
    sql: &str,
    first: i64,
    round: &Round,
) -> Result<String> {
    let mut q = sqlx::query(sql).bind(first);
    if sql.contains("$2") {
        q = q
            .bind(round.org_path.clone())
            .bind(baiqian_domain::org::path_upper_bound(&round.org_path));
    }
    let v: Option<String> = q.fetch_one(conn).await?.try_get(0)?;
    Ok(v.unwrap_or_default())
}

/// The same re-rating as one set-based SQL statement: the reference the benchmark compares the
/// application's re-rating with. Returns the rows it changed.
pub const RERATE_SET_BASED: &str = "UPDATE assessments SET stars = x.stars, class = x.class \
     FROM ( \
       SELECT id, stars, CASE \
         WHEN stars <= lmax OR (lveto = 1 AND veto_failed = 1) THEN 'lagging' \
         WHEN stars = 5 AND practices > 0 AND beautiful > 0 AND COALESCE(income, 0) >= 50000000 THEN 'pioneer' \
         ELSE 'advancing' END AS class \
       FROM ( \
         SELECT id, veto_failed, lmax, lveto, practices, beautiful, income, \
           CASE WHEN veto_failed = 1 AND raw > cap THEN cap ELSE raw END AS stars \
         FROM ( \
           SELECT a.id, a.veto_failed, r.veto_cap AS cap, r.lagging_max_stars AS lmax, \
             r.lagging_on_veto AS lveto, \
             CASE WHEN a.total * 100 >= r.t5 * a.full_total THEN 5 \
                  WHEN a.total * 100 >= r.t4 * a.full_total THEN 4 \
                  WHEN a.total * 100 >= r.t3 * a.full_total THEN 3 \
                  WHEN a.total * 100 >= r.t2 * a.full_total THEN 2 ELSE 1 END AS raw, \
             (SELECT COUNT(*) FROM featured_practices p WHERE p.org_code = a.org_code \
                AND p.year <= r.year AND p.promoted_level IN ('township', 'county', 'city', 'province')) AS practices, \
             (SELECT COUNT(*) FROM beautiful_villages b WHERE b.org_code = a.org_code \
                AND b.year <= r.year AND b.level IN ('city', 'province')) AS beautiful, \
             (SELECT MAX(c.income_fen) FROM collective_incomes c WHERE c.org_code = a.org_code \
                AND c.year = r.year) AS income \
           FROM assessments a JOIN rating_rounds r ON r.id = a.round_id \
           WHERE a.round_id = $1 AND a.total IS NOT NULL) s1) s2) x \
     WHERE assessments.id = x.id \
       AND (assessments.stars IS NULL OR assessments.stars <> x.stars \
            OR assessments.class IS NULL OR assessments.class <> x.class)";

/// One group of a round's assessments under a key: how many share a stage, stars and class.
#[derive(Debug, Clone)]
struct CountRow {
    key: String,
    stage: Stage,
    stars: Option<i64>,
    class: Option<VillageClass>,
    n: i64,
}

/// Counts already read of published rounds. A published round's assessments never change
/// (every write to them is refused once the round is published, and a move in the tree leaves
/// their recorded paths alone), so the history chart and the public pages, which read every
/// published year, read each year's counts from the database once per subtree.
#[derive(Debug, Default)]
pub struct PublishedCounts {
    map: std::sync::Mutex<std::collections::HashMap<CountKey, Arc<Vec<CountRow>>>>,
}

/// A round, the lower bound of the subtree's paths, and the path length grouped on.
type CountKey = (i64, String, usize);

impl PublishedCounts {
    /// Keys kept before the cache starts over: a province's nodes for a few years.
    const MAX_KEYS: usize = 100_000;

    fn get(&self, key: &(i64, String, usize)) -> Option<Arc<Vec<CountRow>>> {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }

    fn put(&self, key: (i64, String, usize), rows: Arc<Vec<CountRow>>) {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::MAX_KEYS {
            map.clear();
        }
        map.insert(key, rows);
    }
}

/// The round's assessments under `[lower, upper)` grouped by key, stage, stars and class; from
/// the cache when the round is published.
async fn count_rows(
    conn: &mut AnyConnection,
    cache: &PublishedCounts,
    round: &Round,
    (lower, upper): (&str, &str),
    key_len: usize,
) -> Result<Arc<Vec<CountRow>>> {
    let cache_key = (round.id, lower.to_string(), key_len);
    if round.published_at.is_some()
        && let Some(rows) = cache.get(&cache_key)
    {
        return Ok(rows);
    }
    let rows = sqlx::query(
        "SELECT substr(org_path, 1, CAST($4 AS INTEGER)) AS k, stage, stars, \
         COALESCE(class_manual, class) AS cls, COUNT(*) AS n FROM assessments \
         WHERE round_id = $1 AND org_path >= $2 AND org_path < $3 \
         GROUP BY substr(org_path, 1, CAST($4 AS INTEGER)), stage, stars, COALESCE(class_manual, class)",
    )
    .bind(round.id)
    .bind(lower)
    .bind(upper)
    .bind(key_len as i64)
    .fetch_all(conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let Some(stage) = Stage::parse(&r.try_get::<String, _>("stage")?) else {
            continue;
        };
        out.push(CountRow {
            key: r.try_get("k")?,
            stage,
            stars: r.try_get("stars")?,
            class: r
                .try_get::<Option<String>, _>("cls")?
                .and_then(|c| VillageClass::parse(&c)),
            n: r.try_get("n")?,
        });
    }
    let out = Arc::new(out);
    if round.published_at.is_some() {
        cache.put(cache_key, out.clone());
    }
    Ok(out)
}

/// Whether a tally counts the villages under each key (the boards' denominator) or only the
/// assessments (the charts of stars over the years).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Villages {
    Counted,
    Skipped,
}

/// Figures of the subtrees of `[lower, upper)` keyed by the first `key_len` characters of each
/// village's path: `key_len = lower.len()` gives the node's own figures, a child's path length
/// each child's (children at one level share a code length, so one pass serves them all).
pub(super) async fn tallies(
    conn: &mut AnyConnection,
    cache: &PublishedCounts,
    round: &Round,
    (lower, upper): (&str, &str),
    key_len: usize,
    today: &str,
    villages: Villages,
) -> Result<std::collections::HashMap<String, Tally>> {
    let mut out: std::collections::HashMap<String, Tally> = std::collections::HashMap::new();
    if villages == Villages::Counted {
        let rows = sqlx::query(
            "SELECT substr(path, 1, CAST($3 AS INTEGER)) AS k, COUNT(*) AS n FROM orgs \
             WHERE level = 'village' AND retired_at IS NULL AND path >= $1 AND path < $2 \
             GROUP BY substr(path, 1, CAST($3 AS INTEGER))",
        )
        .bind(lower)
        .bind(upper)
        .bind(key_len as i64)
        .fetch_all(&mut *conn)
        .await?;
        for r in rows {
            out.entry(r.try_get("k")?).or_default().villages = r.try_get("n")?;
        }
    }
    for row in count_rows(conn, cache, round, (lower, upper), key_len)
        .await?
        .iter()
    {
        let t = out.entry(row.key.clone()).or_default();
        let n = row.n;
        if let Some(i) = Stage::ALL.iter().position(|s| *s == row.stage) {
            t.stages[i] += n;
        }
        if round.is_late(row.stage, today) {
            t.late += n;
        }
        if row.stage.is_rated() {
            if let Some(s) = row.stars
                && (1..=5).contains(&s)
            {
                t.stars[(s - 1) as usize] += n;
            }
            if let Some(i) = row
                .class
                .and_then(|c| VillageClass::ALL.iter().position(|x| *x == c))
            {
                t.classes[i] += n;
            }
        }
    }
    Ok(out)
}

/// The figures of the subtree `[lower, upper)` as a whole.
pub(super) async fn tally(
    conn: &mut AnyConnection,
    cache: &PublishedCounts,
    round: &Round,
    (lower, upper): (&str, &str),
    today: &str,
    villages: Villages,
) -> Result<Tally> {
    Ok(tallies(
        conn,
        cache,
        round,
        (lower, upper),
        lower.len(),
        today,
        villages,
    )
    .await?
    .remove(lower)
    .unwrap_or_default())
}

/// A village's scores for a bulk load (the demo and the benchmark's generated province).
#[derive(Debug, Clone)]
pub struct BulkScore {
    pub org_code: String,
    /// The stage it has reached; steps up to it are recorded.
    pub stage: Stage,
    /// (item id, score, vetoed), the same as self-assessed and reviewed.
    pub items: Vec<(i64, i64, bool)>,
}

/// Runs `RERATE_SET_BASED` for a round in its own transaction; returns the rows it changed.
/// The benchmark's reference for the application's re-rating.
pub async fn rerate_set_based(db: &Db, round_id: i64) -> Result<u64> {
    let mut tx = db.write().await?;
    let n = sqlx::query(RERATE_SET_BASED)
        .bind(round_id)
        .execute(tx.conn())
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(n)
}

impl Db {
    /// Loads scores and stages for many villages of a round in multi-row statements, then
    /// computes totals and re-rates the round. For generators: one audit row for the load.
    pub async fn bulk_score_round(
        &self,
        actor: &Actor,
        round_id: i64,
        scores: &[BulkScore],
        now: i64,
    ) -> Result<Moves> {
        let mut tx = self.write().await?;
        let round = round_by_id(tx.conn(), round_id).await?;
        let ids: std::collections::HashMap<String, i64> =
            sqlx::query("SELECT org_code, id FROM assessments WHERE round_id = $1")
                .bind(round_id)
                .fetch_all(tx.conn())
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_>>()?;
        let mut items: Vec<(i64, i64, i64, i64)> = Vec::new();
        let mut by_stage: std::collections::BTreeMap<&'static str, Vec<i64>> =
            std::collections::BTreeMap::new();
        let mut steps: Vec<(i64, &'static str, &'static str, &'static str)> = Vec::new();
        for s in scores {
            let id = *ids.get(&s.org_code).ok_or(StoreError::NotFound)?;
            for (item, score, vetoed) in &s.items {
                items.push((id, *item, *score, i64::from(*vetoed)));
            }
            by_stage.entry(s.stage.as_str()).or_default().push(id);
            let mut at = Stage::Draft;
            while at < s.stage && at < Stage::Approved {
                let Some(to) = at.next() else { break };
                let action = match at {
                    Stage::Draft => "submit",
                    Stage::Submitted => "review",
                    _ => "approve",
                };
                steps.push((id, action, at.as_str(), to.as_str()));
                at = to;
            }
        }
        for chunk in items.chunks(crate::bulk::rows_per_statement(4)) {
            // Self-scores stand as the reviewed scores: each row's 3rd and 4th parameters twice.
            let sql = format!(
                "INSERT INTO assessment_items (assessment_id, item_id, self_score, self_vetoed, note, score, vetoed) VALUES {}",
                crate::bulk::values("(?1, ?2, ?3, ?4, '', ?3, ?4)", 4, chunk.len(), 1)
            );
            let mut q = sqlx::query(&sql);
            for (a, i, s, v) in chunk {
                q = q.bind(*a).bind(*i).bind(*s).bind(*v);
            }
            q.execute(tx.conn()).await?;
        }
        for chunk in steps.chunks(crate::bulk::rows_per_statement(4)) {
            // $1–$3 (time, actor, role) are shared by every row.
            let sql = format!(
                "INSERT INTO assessment_steps (assessment_id, at, actor_login, actor_role, action, from_stage, to_stage) VALUES {}",
                crate::bulk::values("(?1, $1, $2, $3, ?2, ?3, ?4)", 4, chunk.len(), 4)
            );
            let mut q = sqlx::query(&sql)
                .bind(now)
                .bind(&actor.login)
                .bind(actor.role.as_str());
            for (a, action, from, to) in chunk {
                q = q.bind(*a).bind(*action).bind(*from).bind(*to);
            }
            q.execute(tx.conn()).await?;
        }
        for (stage, ids) in &by_stage {
            for chunk in ids.chunks(crate::bulk::IN_LIST) {
                let sql = format!(
                    "UPDATE assessments SET stage = $1 WHERE id IN ({})",
                    crate::bulk::list(2, chunk.len())
                );
                let mut q = sqlx::query(&sql).bind(*stage);
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(tx.conn()).await?;
            }
        }
        sqlx::query(
            "UPDATE assessments SET \
             self_total = (SELECT CAST(SUM(ai.self_score) AS BIGINT) FROM assessment_items ai WHERE ai.assessment_id = assessments.id), \
             total = CASE WHEN stage = 'draft' THEN NULL ELSE \
                (SELECT CAST(SUM(ai.score) AS BIGINT) FROM assessment_items ai WHERE ai.assessment_id = assessments.id) END, \
             veto_failed = CASE WHEN EXISTS (SELECT 1 FROM assessment_items ai JOIN standard_items i ON i.id = ai.item_id \
                WHERE ai.assessment_id = assessments.id AND ai.vetoed = 1 AND i.veto = 1) THEN 1 ELSE 0 END, \
             updated_at = $2 \
             WHERE round_id = $1",
        )
        .bind(round_id)
        .bind(now)
        .execute(tx.conn())
        .await?;
        let moves = rerate(tx.conn(), &round, now).await?;
        let mut c = Change::update(
            "rating_round",
            &round.year.to_string(),
            &round.org_path,
            serde_json::Value::Null,
            serde_json::json!({"scored": scores.len(), "items": items.len()}),
        );
        c.action = "bulk_score";
        audit::record(tx.conn(), actor, now, c).await?;
        tx.commit().await?;
        Ok(moves)
    }
}
