//! Member cards (党员证卡): ending one (lost, revoked) and issuing the next.

use super::*;

impl Db {
    /// Marks a member's active card lost or revoked; from then on it is refused.
    pub async fn end_card(
        &self,
        actor: &Actor,
        member_id: i64,
        status: &'static str,
        now: i64,
    ) -> Result<()> {
        if !actor.role.may_manage_members() || !matches!(status, "lost" | "revoked") {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let m = self.member(&actor.scope, member_id).await?;
        let Some(card) = m.card_no.clone() else {
            return Err(StoreError::Invalid(Msg::new("card.error.none")));
        };
        let mut tx = self.write().await?;
        sqlx::query("UPDATE member_cards SET status = $1, ended_at = $2 WHERE card_no = $3")
            .bind(status)
            .bind(now)
            .bind(&card)
            .execute(tx.conn())
            .await?;
        let path = crate::kernel::org_path(tx.conn(), &m.home_org).await?;
        let mut change = Change::update(
            "member_card",
            &card,
            &path,
            json!({ "status": "active" }),
            json!({ "status": status }),
        );
        change.action = status;
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues a new card (the old one, if still active, is revoked); returns the new number.
    pub async fn reissue_card(&self, actor: &Actor, member_id: i64, now: i64) -> Result<String> {
        if !actor.role.may_manage_members() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let m = self.member(&actor.scope, member_id).await?;
        if m.status != "active" {
            return Err(StoreError::Invalid(Msg::new("member.error.not_current")));
        }
        let mut tx = self.write().await?;
        let issued: i64 = sqlx::query("SELECT COUNT(*) FROM member_cards WHERE member_id = $1")
            .bind(member_id)
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        sqlx::query("UPDATE member_cards SET status = 'revoked', ended_at = $1 WHERE member_id = $2 AND status = 'active'")
            .bind(now)
            .bind(member_id)
            .execute(tx.conn())
            .await?;
        let card = baiqian_domain::member::card_no(&m.home_org, member_id, (issued + 1) as u32);
        sqlx::query("INSERT INTO member_cards (card_no, member_id, status, issued_at) VALUES ($1, $2, 'active', $3)")
            .bind(&card)
            .bind(member_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
        let path = crate::kernel::org_path(tx.conn(), &m.home_org).await?;
        let mut change = Change::update(
            "member_card",
            &card,
            &path,
            json!({ "card_no": m.card_no }),
            json!({ "card_no": card }),
        );
        change.action = "reissue";
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(card)
    }
}
