//! A member's record over time: what the branch corrects (phone, workplace, the mobile flag and
//! where to), and the member's standing (转出、停止党籍、去世, and back onto the roster), each
//! change dated as written, with its reason, kept as history and audited.

use baiqian_domain::member::{MemberStatus, Phone, parse_record_date, strictly_before};

use super::*;

/// What a branch may correct on a member's record; the rest (name, ID number, dates of Party
/// life) is fixed by the register.
#[derive(Debug, Clone)]
pub struct MemberEdit {
    /// `None` keeps the phone on record (the page shows it masked, so it cannot be re-sent);
    /// `Some(None)` removes it.
    pub phone: Option<Option<Phone>>,
    pub workplace: Option<String>,
    pub mobile: bool,
    pub mobile_where: Option<String>,
}

/// One change of standing, as the record's history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StatusChange {
    pub from_status: String,
    pub to_status: String,
    /// The day (or month) it took effect, as written.
    pub on_date: String,
    pub reason: String,
    pub at: i64,
    pub actor_login: String,
}

/// Which members a roster list shows (在册, 流动党员, 已不在册).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RosterPart {
    /// On the roster: the members who check in and are counted.
    #[default]
    Current,
    /// On the roster and away (流动党员): the register of mobile members.
    Mobile,
    /// Off the roster: transferred out, suspended or deceased.
    Former,
}

impl RosterPart {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "current" => Some(RosterPart::Current),
            "mobile" => Some(RosterPart::Mobile),
            "former" => Some(RosterPart::Former),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RosterPart::Current => "current",
            RosterPart::Mobile => "mobile",
            RosterPart::Former => "former",
        }
    }

    /// The condition over `members m`.
    pub(super) fn sql(self) -> &'static str {
        match self {
            RosterPart::Current => " AND m.status = 'active'",
            RosterPart::Mobile => " AND m.status = 'active' AND m.mobile = 1",
            RosterPart::Former => " AND m.status <> 'active'",
        }
    }
}

impl Db {
    /// Corrects a member's phone, workplace and mobile flag; the before and after are audited
    /// (the phone masked).
    pub async fn edit_member(
        &self,
        actor: &Actor,
        vault: &Vault,
        id: i64,
        edit: &MemberEdit,
        now: i64,
    ) -> Result<Member> {
        if !actor.role.may_manage_members() {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let before = member_in_scope(tx.conn(), &actor.scope, id).await?;
        if let Some(phone) = &edit.phone {
            let sealed = phone
                .as_ref()
                .map(|p| vault.seal(p.as_str()))
                .transpose()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query("UPDATE members SET phone_sealed = $1, phone_masked = $2 WHERE id = $3")
                .bind(sealed)
                .bind(phone.as_ref().map(Phone::masked))
                .bind(id)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query(
            "UPDATE members SET workplace = $1, mobile = $2, mobile_where = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&edit.workplace)
        .bind(i64::from(edit.mobile))
        .bind(edit.mobile.then(|| edit.mobile_where.clone()).flatten())
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
        let after = member_in_scope(tx.conn(), &Scope::everything(), id).await?;
        let path = org_path(tx.conn(), &after.home_org).await?;
        let change = Change::update(
            "member",
            &id.to_string(),
            &path,
            before.audit_json(),
            after.audit_json(),
        );
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Records a change of standing on the day it took effect (`on_date`, to the day or the
    /// month, not after today), with a reason. Off the roster the member no longer counts,
    /// and their card is revoked; back on, they count again and a card may be issued.
    pub async fn change_member_status(
        &self,
        actor: &Actor,
        id: i64,
        to: MemberStatus,
        on_date: &str,
        reason: &str,
        now: i64,
    ) -> Result<Member> {
        if !actor.role.may_manage_members() {
            return Err(denied());
        }
        let reason =
            baiqian_domain::org::parse_reason(reason).map_err(|e| StoreError::Invalid(e.msg()))?;
        let on_date = parse_record_date(on_date).map_err(|e| StoreError::Invalid(e.msg()))?;
        let today = baiqian_domain::time::china_date(now);
        if strictly_before(&today, &on_date) {
            return Err(StoreError::Invalid(
                Msg::new("member.error.status_future").arg("date", &on_date),
            ));
        }
        let mut tx = self.write().await?;
        let before = member_in_scope(tx.conn(), &actor.scope, id).await?;
        let from = MemberStatus::parse(&before.status)
            .ok_or_else(|| StoreError::Corrupt(format!("member {id} status {}", before.status)))?;
        if !from.may_become(to) {
            return Err(StoreError::Invalid(
                Msg::new("member.error.status_change")
                    .arg("from", from.as_str())
                    .arg("to", to.as_str()),
            ));
        }
        if strictly_before(&on_date, &before.joined) {
            return Err(StoreError::Invalid(
                Msg::new("member.error.status_before_joined").arg("date", &on_date),
            ));
        }
        sqlx::query("UPDATE members SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO member_status_changes (member_id, from_status, to_status, on_date, reason, at, actor_login) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(&on_date)
        .bind(&reason)
        .bind(now)
        .bind(&actor.login)
        .execute(tx.conn())
        .await?;
        let path = org_path(tx.conn(), &before.home_org).await?;
        if from == MemberStatus::Active {
            bump_member_counts(tx.conn(), &path, -1).await?;
            sqlx::query(
                "UPDATE member_cards SET status = 'revoked', ended_at = $1 WHERE member_id = $2 AND status = 'active'",
            )
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        } else if to == MemberStatus::Active {
            bump_member_counts(tx.conn(), &path, 1).await?;
        }
        let after = member_in_scope(tx.conn(), &Scope::everything(), id).await?;
        let mut before_json = before.audit_json();
        let mut after_json = after.audit_json();
        before_json["card_no"] = json!(before.card_no);
        after_json["card_no"] = json!(after.card_no);
        after_json["on_date"] = json!(on_date);
        let mut change = Change::update("member", &id.to_string(), &path, before_json, after_json);
        change.action = "status";
        change.reason = Some(reason);
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(after)
    }

    /// How many members one part of the roster under a node holds.
    pub async fn roster_part_count(
        &self,
        node: &crate::kernel::Node,
        part: RosterPart,
    ) -> Result<i64> {
        let path = node.path.as_str();
        Ok(sqlx::query(&format!(
            "SELECT COUNT(*) FROM members m JOIN orgs o ON o.code = m.home_org \
             WHERE o.path >= $1 AND o.path < $2{}",
            part.sql()
        ))
        .bind(path)
        .bind(baiqian_domain::org::path_upper_bound(path))
        .fetch_one(self.pool())
        .await?
        .try_get(0)?)
    }

    /// A member's changes of standing, oldest first.
    pub async fn member_status_changes(&self, scope: &Scope, id: i64) -> Result<Vec<StatusChange>> {
        self.member(scope, id).await?;
        let rows = sqlx::query(
            "SELECT from_status, to_status, on_date, reason, at, actor_login FROM member_status_changes \
             WHERE member_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatusChange {
                    from_status: r.try_get("from_status")?,
                    to_status: r.try_get("to_status")?,
                    on_date: r.try_get("on_date")?,
                    reason: r.try_get("reason")?,
                    at: r.try_get("at")?,
                    actor_login: r.try_get("actor_login")?,
                })
            })
            .collect()
    }

    /// Every month a member attended an activity day (`YYYY-MM`), oldest first.
    pub async fn all_months_attended(&self, scope: &Scope, id: i64) -> Result<Vec<String>> {
        self.member(scope, id).await?;
        let rows =
            sqlx::query("SELECT month FROM member_months WHERE member_id = $1 ORDER BY month")
                .bind(id)
                .fetch_all(self.pool())
                .await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}
