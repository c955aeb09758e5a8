//! A village's situation file (村情档案), per year: what officials write (population, land,
//! the sources of collective income, notes), kept for every year, and what is read from the
//! records each time it is shown — the members by age band from the roster, the secretary, the
//! collective income, beautiful-village status and the village's problems.

use std::collections::HashMap;

use baiqian_domain::ledger::{AgeBands, age_on};
use baiqian_domain::money::Fen;
use baiqian_domain::rating::PromotionLevel;

use super::*;

/// What officials write in a year's file; every part may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileEntries {
    /// 户籍人口
    pub population: Option<i64>,
    pub households: Option<i64>,
    /// Where the collective income comes from (集体经济收入来源).
    pub income_sources: String,
    /// Land available for development, in tenths of a 亩.
    pub land_tenth_mu: Option<i64>,
    /// Where the land is and what it is ("村委会办公楼东侧").
    pub land: String,
    pub notes: String,
}

/// A year's entries as typed in the form, before they are checked.
#[derive(Debug, Clone, Default)]
pub struct FileForm {
    pub population: String,
    pub households: String,
    pub income_sources: String,
    pub land_mu: String,
    pub land: String,
    pub notes: String,
}

/// One village's file for a year.
#[derive(Debug, Clone, Serialize)]
pub struct VillageFile {
    pub code: String,
    pub name: String,
    pub township_name: String,
    pub year: i64,
    /// The day the members' ages are counted on: the year's last day, or today in the year
    /// that is running.
    pub as_of: String,
    pub secretary: Option<String>,
    pub ages: AgeBands,
    pub income_fen: Option<Fen>,
    pub beautiful: Option<(PromotionLevel, i64)>,
    pub problems: ProblemCounts,
    pub entries: FileEntries,
    /// When and by whom the year's entries were last written; none when nobody has yet.
    pub updated: Option<(i64, String)>,
}

impl VillageFile {
    /// The land as the file writes it: "15 亩 村委会办公楼东侧".
    pub fn land_mu(&self) -> Option<String> {
        self.entries.land_tenth_mu.map(tenths)
    }
}

/// Tenths as a decimal with its tenth only when there is one: 150 → "15", 155 → "15.5".
pub fn tenths(v: i64) -> String {
    if v % 10 == 0 {
        (v / 10).to_string()
    } else {
        format!("{}.{}", v / 10, (v % 10).abs())
    }
}

fn count(s: &str, field: &'static str) -> Result<Option<i64>> {
    let t = s.trim().replace([',', '，'], "");
    if t.is_empty() {
        return Ok(None);
    }
    t.parse::<i64>()
        .ok()
        .filter(|n| (0..=10_000_000).contains(n))
        .map(Some)
        .ok_or_else(|| {
            StoreError::Invalid(
                Msg::new("file.error.count")
                    .arg("field", field)
                    .arg("value", s.trim().chars().take(20).collect::<String>()),
            )
        })
}

/// An area in 亩 with at most one decimal ("15", "15.5", "15亩").
fn area(s: &str) -> Result<Option<i64>> {
    let t = s.trim().trim_end_matches('亩').trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || {
        StoreError::Invalid(
            Msg::new("file.error.area").arg("value", s.trim().chars().take(20).collect::<String>()),
        )
    };
    let (whole, tenth) = match t.split_once('.') {
        Some((w, f)) if f.len() == 1 => (w, f),
        Some(_) => return Err(bad()),
        None => (t, "0"),
    };
    let w = whole
        .parse::<i64>()
        .ok()
        .filter(|w| (0..=1_000_000).contains(w));
    let f = tenth
        .parse::<i64>()
        .ok()
        .filter(|_| tenth.chars().all(|c| c.is_ascii_digit()));
    match (w, f) {
        (Some(w), Some(f)) if whole.chars().all(|c| c.is_ascii_digit()) => Ok(Some(w * 10 + f)),
        _ => Err(bad()),
    }
}

impl FileForm {
    /// The entries it gives, or the first field that is wrong.
    pub fn check(&self) -> Result<FileEntries> {
        Ok(FileEntries {
            population: count(&self.population, "population")?,
            households: count(&self.households, "households")?,
            income_sources: optional(&self.income_sources, 500, "income_sources")?,
            land_tenth_mu: area(&self.land_mu)?,
            land: optional(&self.land, 200, "land")?,
            notes: optional(&self.notes, 2000, "notes")?,
        })
    }
}

/// The day a year's ages are counted on, or an error for a year not yet begun.
pub fn file_day(year: i64, today: &str) -> Result<String> {
    let this_year = today
        .get(..4)
        .and_then(|y| y.parse::<i64>().ok())
        .unwrap_or(0);
    if !(2000..=this_year).contains(&year) {
        return Err(StoreError::Invalid(
            Msg::new("file.error.year").arg("year", year),
        ));
    }
    Ok(if year == this_year {
        today.to_string()
    } else {
        format!("{year}-12-31")
    })
}

const FILE_COLUMNS: &str = "o.code, o.name, o.secretary_name, COALESCE(t.name, '') AS township_name, \
    f.population, f.households, f.income_sources, f.land_tenth_mu, f.land, f.notes, \
    f.updated_at, f.updated_by, c.income_fen, b.level AS b_level, b.year AS b_year, \
    pt.open AS p_open, pt.in_progress AS p_in_progress, pt.rectified AS p_rectified, \
    pt.verified AS p_verified, pt.reopened AS p_reopened, pt.overdue AS p_overdue, \
    pt.extended AS p_extended";

const FILE_FROM: &str = "orgs o LEFT JOIN orgs t ON t.code = o.parent_code \
    LEFT JOIN village_files f ON f.org_code = o.code AND f.year = $3 \
    LEFT JOIN collective_incomes c ON c.org_code = o.code AND c.year = $3 \
    LEFT JOIN beautiful_villages b ON b.org_code = o.code AND b.year <= $3 \
    LEFT JOIN problem_tallies pt ON pt.village_code = o.code";

fn file_from_row(r: &AnyRow, year: i64, as_of: &str) -> Result<VillageFile> {
    let n = |c: &str| -> Result<i64> { Ok(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0)) };
    let (open, in_progress, rectified, verified, reopened) = (
        n("p_open")?,
        n("p_in_progress")?,
        n("p_rectified")?,
        n("p_verified")?,
        n("p_reopened")?,
    );
    let updated_at: Option<i64> = r.try_get("updated_at")?;
    let updated = match updated_at {
        Some(at) => Some((at, r.try_get::<String, _>("updated_by")?)),
        None => None,
    };
    let beautiful = match (
        r.try_get::<Option<String>, _>("b_level")?,
        r.try_get::<Option<i64>, _>("b_year")?,
    ) {
        (Some(l), Some(y)) => PromotionLevel::parse(&l).map(|l| (l, y)),
        _ => None,
    };
    Ok(VillageFile {
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        township_name: r.try_get("township_name")?,
        year,
        as_of: as_of.to_string(),
        secretary: r.try_get("secretary_name")?,
        ages: AgeBands::default(),
        income_fen: r.try_get::<Option<i64>, _>("income_fen")?.map(Fen),
        beautiful,
        problems: ProblemCounts {
            found: open + in_progress + rectified + verified + reopened,
            open: open + reopened,
            in_progress,
            rectified,
            verified,
            overdue: n("p_overdue")?,
            extended: n("p_extended")?,
        },
        entries: FileEntries {
            population: r.try_get("population")?,
            households: r.try_get("households")?,
            income_sources: r
                .try_get::<Option<String>, _>("income_sources")?
                .unwrap_or_default(),
            land_tenth_mu: r.try_get("land_tenth_mu")?,
            land: r.try_get::<Option<String>, _>("land")?.unwrap_or_default(),
            notes: r.try_get::<Option<String>, _>("notes")?.unwrap_or_default(),
        },
        updated,
    })
}

impl Db {
    /// The files of every village under a node (the node itself when it is a village) for a
    /// year, their ages counted on `as_of` from the members on the roster who had joined by then.
    pub async fn village_files_under(
        &self,
        node: &Node,
        year: i64,
        as_of: &str,
    ) -> Result<Vec<VillageFile>> {
        let upper = baiqian_domain::org::path_upper_bound(&node.path);
        let sql = format!(
            "SELECT {FILE_COLUMNS} FROM {FILE_FROM} WHERE o.level = 'village' \
             AND o.retired_at IS NULL AND o.path >= $1 AND o.path < $2 ORDER BY o.path"
        );
        let rows = sqlx::query(&sql)
            .bind(&node.path)
            .bind(&upper)
            .bind(year)
            .fetch_all(self.pool())
            .await?;
        let mut files = rows
            .iter()
            .map(|r| file_from_row(r, year, as_of))
            .collect::<Result<Vec<_>>>()?;
        let births = sqlx::query(
            "SELECT m.home_org, m.birth_date FROM members m JOIN orgs o ON o.code = m.home_org \
             WHERE o.level = 'village' AND o.path >= $1 AND o.path < $2 \
             AND m.status = 'active' AND m.joined <= $3",
        )
        .bind(&node.path)
        .bind(&upper)
        .bind(as_of)
        .fetch_all(self.pool())
        .await?;
        let mut ages: HashMap<String, AgeBands> = HashMap::new();
        for r in births {
            let birth: String = r.try_get("birth_date")?;
            if let Some(age) = age_on(&birth, as_of) {
                ages.entry(r.try_get("home_org")?).or_default().add(age);
            }
        }
        for f in &mut files {
            if let Some(a) = ages.get(&f.code) {
                f.ages = *a;
            }
        }
        Ok(files)
    }

    /// The years a village has a file or a collective income on record, newest first.
    pub async fn village_file_years(&self, village: &Node) -> Result<Vec<i64>> {
        let rows = sqlx::query(
            "SELECT year FROM village_files WHERE org_code = $1 \
             UNION SELECT year FROM collective_incomes WHERE org_code = $1 ORDER BY year DESC",
        )
        .bind(village.code.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }

    /// Writes a village's entries for a year, checked; the year's earlier entries go to the
    /// audit log as the change's before. Nothing is written when nothing changed.
    pub async fn save_village_file(
        &self,
        actor: &Actor,
        village: &str,
        year: i64,
        form: &FileForm,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may(Capability::KeepVillageFiles) {
            return Err(denied());
        }
        file_day(year, &china_date(now))?;
        let entries = form.check()?;
        let mut tx = self.write().await?;
        let org = village_in_scope(tx.conn(), &actor.scope, village).await?;
        let before = sqlx::query(
            "SELECT population, households, income_sources, land_tenth_mu, land, notes \
             FROM village_files WHERE org_code = $1 AND year = $2",
        )
        .bind(org.code.as_str())
        .bind(year)
        .fetch_optional(tx.conn())
        .await?
        .map(|r| -> Result<FileEntries> {
            Ok(FileEntries {
                population: r.try_get("population")?,
                households: r.try_get("households")?,
                income_sources: r.try_get("income_sources")?,
                land_tenth_mu: r.try_get("land_tenth_mu")?,
                land: r.try_get("land")?,
                notes: r.try_get("notes")?,
            })
        })
        .transpose()?;
        if before.as_ref() == Some(&entries) {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO village_files (org_code, year, population, households, income_sources, \
             land_tenth_mu, land, notes, updated_at, updated_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (org_code, year) DO UPDATE SET population = $3, households = $4, \
             income_sources = $5, land_tenth_mu = $6, land = $7, notes = $8, updated_at = $9, \
             updated_by = $10",
        )
        .bind(org.code.as_str())
        .bind(year)
        .bind(entries.population)
        .bind(entries.households)
        .bind(&entries.income_sources)
        .bind(entries.land_tenth_mu)
        .bind(&entries.land)
        .bind(&entries.notes)
        .bind(now)
        .bind(&actor.login)
        .execute(tx.conn())
        .await?;
        let key = format!("{} {year}", org.code.as_str());
        let after = json!(entries);
        let change = match before {
            Some(b) => Change::update("village_file", &key, &org.path, json!(b), after),
            None => Change::create("village_file", &key, &org.path, after),
        };
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_and_counts_read_as_officials_write_them() {
        assert_eq!(area("15").ok(), Some(Some(150)));
        assert_eq!(area("15.5 亩").ok(), Some(Some(155)));
        assert_eq!(area("15亩").ok(), Some(Some(150)));
        assert_eq!(area("").ok(), Some(None));
        for bad in ["15.55", "-3", "十五", "1e3", "15.", ".5x"] {
            assert!(area(bad).is_err(), "{bad}");
        }
        assert_eq!(count("1,234", "population").ok(), Some(Some(1234)));
        assert!(count("-1", "population").is_err());
        assert!(count("many", "population").is_err());
        assert_eq!(
            (tenths(150), tenths(155)),
            ("15".to_string(), "15.5".to_string())
        );
    }

    #[test]
    fn a_file_is_of_a_year_begun() {
        assert_eq!(file_day(2016, "2016-03-01").ok(), Some("2016-03-01".into()));
        assert_eq!(file_day(2015, "2016-03-01").ok(), Some("2015-12-31".into()));
        assert!(file_day(2017, "2016-03-01").is_err());
        assert!(file_day(1999, "2016-03-01").is_err());
    }
}
