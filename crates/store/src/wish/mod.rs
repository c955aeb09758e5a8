//! Micro-wishes (党员微心愿): a member posts a villager's wish at a village (like 缫舍村's
//! 张逸灵 for 陈天相, whose son works far away and who wants company); another member claims it,
//! fulfils it with a note, and the poster confirms. One claimer at a time: a claim is one
//! `UPDATE … WHERE status = 'posted'`, so of many claims at once exactly one changes the row and
//! the others are told it is taken, on both databases. The villager's name, address and phone
//! are shown only to the poster, the claimer and the administrations in scope (the phone
//! sealed in the vault, whole only to the poster and the claimer, who call). Every step is
//! audited in its own transaction; a refusal writes nothing.

mod load;
mod tasks;

pub use load::BulkWish;
pub use tasks::{WishTask, WishTaskKind};

use baiqian_domain::Msg;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::{Level, path_upper_bound};
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::audit::{self, Change};
use crate::check::{conflict, denied, invalid, sealed_phone, text};
use crate::kernel::{Node, TreeEvent};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// Days after which a wish nobody claimed, or a claim not fulfilled, is shown as waiting too
/// long (on the boards and the village's task list).
pub const UNCLAIMED_DAYS: i64 = 7;
pub const STALLED_DAYS: i64 = 14;
const DAY_MS: i64 = 86_400_000;

/// Where a wish stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WishStatus {
    Posted,
    Claimed,
    Fulfilled,
    Confirmed,
    Withdrawn,
}

impl WishStatus {
    pub const ALL: [WishStatus; 5] = [
        WishStatus::Posted,
        WishStatus::Claimed,
        WishStatus::Fulfilled,
        WishStatus::Confirmed,
        WishStatus::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WishStatus::Posted => "posted",
            WishStatus::Claimed => "claimed",
            WishStatus::Fulfilled => "fulfilled",
            WishStatus::Confirmed => "confirmed",
            WishStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == s)
    }
}

/// The villager a wish is for, as the reader may see them.
#[derive(Debug, Clone, Serialize)]
pub struct Villager {
    pub name: String,
    pub address: String,
    /// Whole for the poster and the claimer, masked for the administrations.
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Wish {
    pub id: i64,
    pub org_code: String,
    pub org_name: String,
    pub org_path: String,
    pub title: String,
    pub detail: String,
    pub status: WishStatus,
    pub posted_by: String,
    pub posted_at: i64,
    pub claimed_by: Option<String>,
    pub claimed_at: Option<i64>,
    pub fulfilled_at: Option<i64>,
    pub fulfil_note: Option<String>,
    pub confirmed_at: Option<i64>,
    /// Only for the poster, the claimer and the administrations in scope.
    pub villager: Option<Villager>,
}

/// A wish as typed.
#[derive(Debug, Clone, Default)]
pub struct NewWish {
    pub title: String,
    pub detail: String,
    pub villager_name: String,
    pub villager_address: String,
    pub phone: String,
}

/// The wishes under a node (`GET /api/v1/orgs/{code}/wishes/summary` and the board). The first
/// four count every wish that got that far (a confirmed one was posted, claimed and
/// fulfilled); withdrawn wishes count in none of them.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WishSummary {
    pub posted: i64,
    pub claimed: i64,
    pub fulfilled: i64,
    pub confirmed: i64,
    /// Posted and not claimed now; of those, posted more than `UNCLAIMED_DAYS` ago.
    pub open: i64,
    pub unclaimed_long: i64,
    /// Claimed and not fulfilled now; of those, claimed more than `STALLED_DAYS` ago.
    pub in_hand: i64,
    pub stalled: i64,
}

impl WishSummary {
    /// How many wishes the list `filter` shows.
    pub fn figure(&self, filter: WishFilter) -> i64 {
        match filter {
            WishFilter::All => self.posted,
            WishFilter::Open => self.open,
            WishFilter::UnclaimedLong => self.unclaimed_long,
            WishFilter::InHand => self.in_hand,
            WishFilter::Stalled => self.stalled,
            WishFilter::Fulfilled => self.fulfilled,
            WishFilter::Confirmed => self.confirmed,
        }
    }
}

/// Which wishes a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WishFilter {
    All,
    Open,
    UnclaimedLong,
    InHand,
    Stalled,
    Fulfilled,
    Confirmed,
}

impl WishFilter {
    pub const ALL: [WishFilter; 7] = [
        WishFilter::All,
        WishFilter::Open,
        WishFilter::UnclaimedLong,
        WishFilter::InHand,
        WishFilter::Stalled,
        WishFilter::Fulfilled,
        WishFilter::Confirmed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WishFilter::All => "all",
            WishFilter::Open => "open",
            WishFilter::UnclaimedLong => "unclaimed",
            WishFilter::InHand => "in_hand",
            WishFilter::Stalled => "stalled",
            WishFilter::Fulfilled => "fulfilled",
            WishFilter::Confirmed => "confirmed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The condition, with `$3` the time now.
    fn condition(self) -> &'static str {
        match self {
            WishFilter::All => "w.status <> 'withdrawn'",
            WishFilter::Open => "w.status = 'posted'",
            WishFilter::UnclaimedLong => "w.status = 'posted' AND w.posted_at < $3",
            WishFilter::InHand => "w.status = 'claimed'",
            WishFilter::Stalled => "w.status = 'claimed' AND w.claimed_at < $4",
            WishFilter::Fulfilled => "w.status IN ('fulfilled', 'confirmed')",
            WishFilter::Confirmed => "w.status = 'confirmed'",
        }
    }
}

/// Whether the actor is an administration that may see the villager's details at `path`.
fn administers(actor: &Actor, path: &str) -> bool {
    actor.role.may(Capability::ManageMembers) && actor.scope.contains_path(path)
}

const WISH_COLUMNS: &str = "w.id, w.org_code, o.name AS org_name, w.org_path, w.title, w.detail, \
    w.status, w.posted_by, w.posted_at, w.claimed_by, w.claimed_at, w.fulfilled_at, w.fulfil_note, \
    w.confirmed_at, w.villager_name, w.villager_address, w.phone_sealed, w.phone_masked";

const WISH_FROM: &str = "wishes w JOIN orgs o ON o.code = w.org_code";

/// A wish as `actor` may see it: the villager for the poster, the claimer and the
/// administrations; the phone whole for the first two only.
fn wish_from_row(r: &AnyRow, actor: &Actor, vault: Option<&Vault>) -> Result<Wish> {
    let id: i64 = r.try_get("id")?;
    let org_path: String = r.try_get("org_path")?;
    let posted_by: String = r.try_get("posted_by")?;
    let claimed_by: Option<String> = r.try_get("claimed_by")?;
    let own = posted_by == actor.login || claimed_by.as_deref() == Some(actor.login.as_str());
    let villager = match vault {
        Some(vault) if own || administers(actor, &org_path) => {
            let phone = if own {
                r.try_get::<Option<String>, _>("phone_sealed")?
                    .map(|s| {
                        vault.open(&s).map_err(|_| {
                            StoreError::Corrupt(format!("wish {id}: sealed phone does not open"))
                        })
                    })
                    .transpose()?
            } else {
                r.try_get("phone_masked")?
            };
            Some(Villager {
                name: r.try_get("villager_name")?,
                address: r.try_get("villager_address")?,
                phone,
            })
        }
        _ => None,
    };
    Ok(Wish {
        id,
        org_code: r.try_get("org_code")?,
        org_name: r.try_get("org_name")?,
        title: r.try_get("title")?,
        detail: r.try_get("detail")?,
        status: WishStatus::parse(&r.try_get::<String, _>("status")?)
            .ok_or_else(|| StoreError::Corrupt(format!("wish {id}: status")))?,
        posted_by,
        posted_at: r.try_get("posted_at")?,
        claimed_by,
        claimed_at: r.try_get("claimed_at")?,
        fulfilled_at: r.try_get("fulfilled_at")?,
        fulfil_note: r.try_get("fulfil_note")?,
        confirmed_at: r.try_get("confirmed_at")?,
        org_path,
        villager,
    })
}

/// The wish `id` if the actor's scope holds it.
async fn wish_in_scope(
    conn: &mut AnyConnection,
    actor: &Actor,
    vault: Option<&Vault>,
    id: i64,
) -> Result<Wish> {
    let r = sqlx::query(&format!(
        "SELECT {WISH_COLUMNS} FROM {WISH_FROM} WHERE w.id = $1 AND w.org_path >= $2 AND w.org_path < $3"
    ))
    .bind(id)
    .bind(actor.scope.lower())
    .bind(actor.scope.upper())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    wish_from_row(&r, actor, vault)
}

/// A step of a wish's life, and who may take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Anyone in scope who keeps wishes but the poster.
    Claim,
    /// The claimer gives it back.
    Release,
    /// The claimer, with a note.
    Fulfil,
    /// The poster.
    Confirm,
    /// The poster or an administration, while nobody holds it.
    Cancel,
}

impl Step {
    fn action(self) -> &'static str {
        match self {
            Step::Claim => "claim",
            Step::Release => "release",
            Step::Fulfil => "fulfil",
            Step::Confirm => "confirm",
            Step::Cancel => "cancel",
        }
    }

    fn from(self) -> WishStatus {
        match self {
            Step::Claim | Step::Cancel => WishStatus::Posted,
            Step::Release | Step::Fulfil => WishStatus::Claimed,
            Step::Confirm => WishStatus::Fulfilled,
        }
    }

    fn to(self) -> WishStatus {
        match self {
            Step::Claim => WishStatus::Claimed,
            Step::Release => WishStatus::Posted,
            Step::Fulfil => WishStatus::Fulfilled,
            Step::Confirm => WishStatus::Confirmed,
            Step::Cancel => WishStatus::Withdrawn,
        }
    }

    /// What the step sets besides the status, with `$1` the actor and `$2` the time.
    fn sets(self) -> &'static str {
        match self {
            Step::Claim => "claimed_by = $1, claimed_at = $2",
            Step::Release => "claimed_by = NULL, claimed_at = NULL",
            Step::Fulfil => "fulfilled_at = $2, fulfil_note = $6",
            Step::Confirm => "confirmed_at = $2",
            Step::Cancel => "claimed_at = NULL",
        }
    }

    /// Whether `actor` may take this step of `w` (the status aside).
    fn may(self, actor: &Actor, w: &Wish) -> std::result::Result<(), StoreError> {
        let me = actor.login.as_str();
        let ok = match self {
            Step::Claim if w.posted_by == me => {
                return Err(StoreError::Denied(Msg::new("wish.error.own")));
            }
            Step::Claim => true,
            Step::Release | Step::Fulfil => w.claimed_by.as_deref() == Some(me),
            Step::Confirm => w.posted_by == me,
            Step::Cancel => w.posted_by == me || administers(actor, &w.org_path),
        };
        if ok {
            Ok(())
        } else {
            Err(StoreError::Denied(Msg::new("wish.error.not_yours")))
        }
    }
}

impl Db {
    /// Posts a wish for a villager at a village. Returns its id.
    pub async fn post_wish(
        &self,
        actor: &Actor,
        vault: &Vault,
        node: &Node,
        new: &NewWish,
        now: i64,
    ) -> Result<i64> {
        if !actor.role.may(Capability::KeepWishes) || !actor.scope.contains_path(&node.path) {
            return Err(denied());
        }
        if node.level != Level::Village {
            return Err(invalid("wish.error.not_village"));
        }
        let title = text(&new.title, 2, 60, "wish.error.title")?;
        let detail = text(&new.detail, 0, 500, "wish.error.detail")?;
        let villager = text(&new.villager_name, 2, 20, "wish.error.villager")?;
        let address = text(&new.villager_address, 0, 100, "wish.error.address")?;
        let (phone_sealed, phone_masked) = sealed_phone(vault, &new.phone)?;
        let mut tx = self.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO wishes (org_code, org_path, title, detail, villager_name, villager_address, \
             phone_sealed, phone_masked, status, posted_by, posted_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'posted', $9, $10, $10) RETURNING id",
        )
        .bind(node.code.as_str())
        .bind(&node.path)
        .bind(&title)
        .bind(&detail)
        .bind(&villager)
        .bind(&address)
        .bind(phone_sealed)
        .bind(&phone_masked)
        .bind(&actor.login)
        .bind(now)
        .fetch_one(tx.conn())
        .await?
        .try_get(0)?;
        refresh_tallies(tx.conn(), &node.path).await?;
        // The villager's name and address stay out of the audit log, which auditors read.
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "wish",
                &format!("#{id} {title}"),
                &node.path,
                json!({ "title": title, "detail": detail, "phone": phone_masked,
                        "wish_status": "posted" }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The wish `id` as the actor may see it.
    pub async fn wish(&self, actor: &Actor, vault: &Vault, id: i64) -> Result<Wish> {
        let mut conn = self.pool().acquire().await?;
        wish_in_scope(&mut conn, actor, Some(vault), id).await
    }

    /// Claims a wish: of many claims at once exactly one wins; the others are told it is taken.
    pub async fn claim_wish(&self, actor: &Actor, id: i64, now: i64) -> Result<()> {
        self.step_wish(actor, id, Step::Claim, "", now).await
    }

    /// Gives a claimed wish back, so another may claim it.
    pub async fn release_wish(&self, actor: &Actor, id: i64, now: i64) -> Result<()> {
        self.step_wish(actor, id, Step::Release, "", now).await
    }

    /// The claimer reports the wish fulfilled, saying how.
    pub async fn fulfil_wish(&self, actor: &Actor, id: i64, note: &str, now: i64) -> Result<()> {
        let note = text(note, 2, 500, "wish.error.note")?;
        self.step_wish(actor, id, Step::Fulfil, &note, now).await
    }

    /// The poster confirms the wish came true.
    pub async fn confirm_wish(&self, actor: &Actor, id: i64, now: i64) -> Result<()> {
        self.step_wish(actor, id, Step::Confirm, "", now).await
    }

    /// The poster or an administration withdraws a wish nobody holds, with a reason.
    pub async fn cancel_wish(&self, actor: &Actor, id: i64, reason: &str, now: i64) -> Result<()> {
        let reason = text(reason, 2, 200, "wish.error.reason")?;
        self.step_wish(actor, id, Step::Cancel, &reason, now).await
    }

    async fn step_wish(
        &self,
        actor: &Actor,
        id: i64,
        step: Step,
        note: &str,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may(Capability::KeepWishes) {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let w = wish_in_scope(tx.conn(), actor, None, id).await?;
        step.may(actor, &w)?;
        // The status in the WHERE makes the step happen once: a second claim (or any step on
        // a wish that moved since it was read) changes nothing and is told so.
        // `$1 = $1 AND $6 = $6`: every step binds the same six parameters, and PostgreSQL wants
        // each one used.
        let changed = sqlx::query(&format!(
            "UPDATE wishes SET status = $5, {}, updated_at = $2 WHERE id = $3 AND status = $4 \
             AND $1 = $1 AND $6 = $6",
            step.sets()
        ))
        .bind(&actor.login)
        .bind(now)
        .bind(id)
        .bind(step.from().as_str())
        .bind(step.to().as_str())
        .bind(note)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(match (step, w.status) {
                (Step::Claim, WishStatus::Posted | WishStatus::Claimed) => {
                    conflict("wish.error.taken")
                }
                _ => StoreError::Conflict(
                    Msg::new("wish.error.status").arg("wish_status", w.status.as_str()),
                ),
            });
        }
        refresh_tallies(tx.conn(), &w.org_path).await?;
        let after = match step {
            Step::Fulfil => json!({ "wish_status": step.to().as_str(), "note": note }),
            _ => json!({ "wish_status": step.to().as_str() }),
        };
        audit::record(
            tx.conn(),
            actor,
            now,
            Change {
                action: step.action(),
                entity: "wish",
                key: format!("#{id} {}", w.title),
                org_path: w.org_path.clone(),
                before: Some(json!({ "wish_status": w.status.as_str() })),
                after: Some(after),
                reason: (step == Step::Cancel).then(|| note.to_string()),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The figures of the wishes under a node: the villages' tallies summed, and the open
    /// and in-hand wishes waiting too long counted on their partial indexes.
    pub async fn wish_summary(&self, node: &Node, now: i64) -> Result<WishSummary> {
        let upper = path_upper_bound(&node.path);
        let tallies = sqlx::query(
            "SELECT CAST(COALESCE(SUM(posted), 0) AS BIGINT), CAST(COALESCE(SUM(claimed), 0) AS BIGINT), \
             CAST(COALESCE(SUM(fulfilled), 0) AS BIGINT), CAST(COALESCE(SUM(confirmed), 0) AS BIGINT), \
             CAST(COALESCE(SUM(open_now), 0) AS BIGINT), CAST(COALESCE(SUM(in_hand), 0) AS BIGINT) \
             FROM wish_tallies WHERE org_path >= $1 AND org_path < $2",
        )
        .bind(&node.path)
        .bind(&upper)
        .fetch_one(self.pool());
        let unclaimed_long = sqlx::query(
            "SELECT COUNT(*) FROM wishes WHERE status = 'posted' AND org_path >= $1 AND org_path < $2 AND posted_at < $3",
        )
        .bind(&node.path)
        .bind(&upper)
        .bind(now - UNCLAIMED_DAYS * DAY_MS)
        .fetch_one(self.pool());
        let stalled = sqlx::query(
            "SELECT COUNT(*) FROM wishes WHERE status = 'claimed' AND org_path >= $1 AND org_path < $2 AND claimed_at < $3",
        )
        .bind(&node.path)
        .bind(&upper)
        .bind(now - STALLED_DAYS * DAY_MS)
        .fetch_one(self.pool());
        // Three reads on three connections at once: on PostgreSQL each waits on its own scan.
        let (r, unclaimed_long, stalled) = tokio::try_join!(tallies, unclaimed_long, stalled)?;
        Ok(WishSummary {
            posted: r.try_get(0)?,
            claimed: r.try_get(1)?,
            fulfilled: r.try_get(2)?,
            confirmed: r.try_get(3)?,
            open: r.try_get(4)?,
            unclaimed_long: unclaimed_long.try_get(0)?,
            in_hand: r.try_get(5)?,
            stalled: stalled.try_get(0)?,
        })
    }

    /// The wishes under a node that `filter` shows, by place and newest first within a
    /// place, a page of at most `limit` from `offset`, without the villager's details. How
    /// many there are is the summary's figure (`WishSummary::figure`).
    pub async fn wishes_under(
        &self,
        actor: &Actor,
        node: &Node,
        filter: WishFilter,
        now: i64,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<Wish>> {
        sqlx::query(&format!(
            "SELECT {WISH_COLUMNS} FROM {WISH_FROM} WHERE w.org_path >= $1 AND w.org_path < $2 \
             AND {} AND $3 = $3 AND $4 = $4 ORDER BY w.org_path, w.id DESC LIMIT $5 OFFSET $6",
            filter.condition()
        ))
        .bind(&node.path)
        .bind(path_upper_bound(&node.path))
        .bind(now - UNCLAIMED_DAYS * DAY_MS)
        .bind(now - STALLED_DAYS * DAY_MS)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| wish_from_row(r, actor, None))
        .collect()
    }

    /// Recomputes every village's tallies from the rows (after a load made outside the
    /// application, as the benchmark's).
    pub async fn refresh_all_wish_tallies(&self) -> Result<()> {
        let mut tx = self.write().await?;
        refresh_tallies(tx.conn(), "/").await?;
        tx.commit().await?;
        Ok(())
    }

    /// The wishes the actor posted and those they hold or held, newest first (a member's
    /// "我的"), with the villager's details they may see.
    pub async fn my_wishes(&self, actor: &Actor, vault: &Vault) -> Result<Vec<Wish>> {
        sqlx::query(&format!(
            "SELECT {WISH_COLUMNS} FROM {WISH_FROM} WHERE (w.posted_by = $1 OR w.claimed_by = $1) \
             AND w.org_path >= $2 AND w.org_path < $3 ORDER BY w.id DESC LIMIT 200"
        ))
        .bind(&actor.login)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| wish_from_row(r, actor, Some(vault)))
        .collect()
    }
}

/// Recomputes the tallies of the villages at and under `path` from their rows, in the
/// transaction that changed them.
pub(crate) async fn refresh_tallies(conn: &mut AnyConnection, path: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO wish_tallies (org_code, org_path, posted, claimed, fulfilled, confirmed, open_now, in_hand) \
         SELECT org_code, org_path, \
         SUM(CASE WHEN status <> 'withdrawn' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status IN ('claimed', 'fulfilled', 'confirmed') THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status IN ('fulfilled', 'confirmed') THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'confirmed' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'posted' THEN 1 ELSE 0 END), \
         SUM(CASE WHEN status = 'claimed' THEN 1 ELSE 0 END) \
         FROM wishes WHERE org_path >= $1 AND org_path < $2 GROUP BY org_code, org_path \
         ON CONFLICT (org_code) DO UPDATE SET org_path = excluded.org_path, posted = excluded.posted, \
         claimed = excluded.claimed, fulfilled = excluded.fulfilled, confirmed = excluded.confirmed, \
         open_now = excluded.open_now, in_hand = excluded.in_hand",
    )
    .bind(path)
    .bind(path_upper_bound(path))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    _actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    _now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        if let TreeEvent::Moved { old_path, new_path } = *event {
            crate::kernel::move_paths(&mut *conn, "wishes", "org_path", old_path, new_path).await?;
        }
        Ok(())
    })
}
