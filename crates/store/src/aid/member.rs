//! An association's members (会员): written with their ID numbers and phones sealed in the
//! vault and masked, and unsealed only for a reader whose role may see them, audited.

use baiqian_domain::member::IdNumber;
use serde_json::json;
use sqlx::{AnyConnection, Row};

use super::{Association, NewAidMember, association_in_scope, refresh_tallies};
use crate::audit::{self, Change};
use crate::check::{denied, invalid, past_date, sealed_phone, text};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// A member's ID number and phone, unsealed for a reader whose role may see them (audited).
#[derive(Debug, Clone)]
pub struct AidRevealed {
    pub member_id: i64,
    pub association_id: i64,
    pub id_number: Option<String>,
    pub phone: Option<String>,
}

impl Db {
    /// Unseals a member's ID number and phone for a reader whose role may see personal data,
    /// in scope; the reveal is audited (who, when, whose) and nothing else changes.
    pub async fn reveal_aid_member(
        &self,
        actor: &Actor,
        vault: &Vault,
        id: i64,
        now: i64,
    ) -> Result<AidRevealed> {
        if !actor.role.may_see_personal_data() {
            return Err(denied());
        }
        let mut tx = self.write().await?;
        let r = sqlx::query(
            "SELECT association_id, name, id_sealed, phone_sealed FROM aid_members \
             WHERE id = $1 AND org_path >= $2 AND org_path < $3",
        )
        .bind(id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let association_id: i64 = r.try_get("association_id")?;
        let a = association_in_scope(tx.conn(), actor, association_id).await?;
        let open = |sealed: Option<String>| -> Result<Option<String>> {
            sealed
                .map(|s| {
                    vault.open(&s).map_err(|_| {
                        StoreError::Corrupt(format!(
                            "aid member {id}: sealed data does not open with this key"
                        ))
                    })
                })
                .transpose()
        };
        let revealed = AidRevealed {
            member_id: id,
            association_id,
            id_number: open(r.try_get("id_sealed")?)?,
            phone: open(r.try_get("phone_sealed")?)?,
        };
        let name: String = r.try_get("name")?;
        let mut change = Change::create(
            "aid_member",
            &format!("{} {name}", a.name),
            &a.org_path,
            json!({ "fields": ["id_number", "phone"] }),
        );
        change.action = "reveal";
        change.after = None;
        change.reason = Some("personal data shown unmasked".into());
        audit::record(tx.conn(), actor, now, change).await?;
        tx.commit().await?;
        Ok(revealed)
    }
}

/// Writes a member of `a` (validated here) and its audit row.
pub(super) async fn insert_member(
    conn: &mut AnyConnection,
    actor: &Actor,
    vault: &Vault,
    a: &Association,
    new: &NewAidMember,
    today: &str,
    now: i64,
) -> Result<i64> {
    let name = text(&new.name, 2, 20, "aid.error.member_name")?;
    let change_note = text(&new.change_note, 0, 200, "aid.error.note")?;
    let joined_on = past_date(&new.joined_on, today, "aid.error.date")?;
    let helped_on = match new.helped_on.trim() {
        "" => None,
        s => Some(past_date(s, today, "aid.error.date")?),
    };
    if helped_on.is_some() && !new.in_difficulty {
        return Err(invalid("aid.error.helped_not_in_difficulty"));
    }
    let households_led: i64 = match new.households_led.trim() {
        "" => 0,
        s => s
            .parse()
            .ok()
            .filter(|n| (0..=100_000).contains(n))
            .ok_or_else(|| invalid("aid.error.households"))?,
    };
    let (id_hash, id_sealed, id_masked) = match new.id_number.trim() {
        "" => (None, None, None),
        s => {
            let id = IdNumber::parse(s).map_err(|e| StoreError::Invalid(e.msg()))?;
            let sealed = vault
                .seal(id.as_str())
                .map_err(|e| StoreError::Corrupt(format!("vault: {e}")))?;
            (
                Some(vault.hash(id.as_str())),
                Some(sealed),
                Some(id.masked()),
            )
        }
    };
    let (phone_sealed, phone_masked) = sealed_phone(vault, &new.phone)?;
    let mentor_id: Option<i64> = match new.mentor.trim() {
        "" => None,
        m => {
            let found: Vec<i64> = sqlx::query(
                "SELECT id FROM aid_members WHERE association_id = $1 AND name = $2 AND party_member = 1",
            )
            .bind(a.id)
            .bind(m)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
            match found.as_slice() {
                [one] => Some(*one),
                _ => return Err(invalid("aid.error.mentor")),
            }
        }
    };
    let id: i64 = sqlx::query(
        "INSERT INTO aid_members (association_id, org_path, name, party_member, id_sealed, id_masked, id_hash, \
         phone_sealed, phone_masked, in_difficulty, helped_on, change_note, mentor_id, households_led, joined_on, \
         created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
    )
    .bind(a.id)
    .bind(&a.org_path)
    .bind(&name)
    .bind(i64::from(new.party_member))
    .bind(id_sealed)
    .bind(&id_masked)
    .bind(id_hash)
    .bind(phone_sealed)
    .bind(&phone_masked)
    .bind(i64::from(new.in_difficulty))
    .bind(&helped_on)
    .bind(&change_note)
    .bind(mentor_id)
    .bind(households_led)
    .bind(&joined_on)
    .bind(&actor.login)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(|e| crate::on_unique(e, baiqian_domain::Msg::new("aid.error.member_exists")))?
    .try_get(0)?;
    refresh_tallies(&mut *conn, &[a.id]).await?;
    audit::record(
        conn,
        actor,
        now,
        Change::create(
            "aid_member",
            &format!("{} {name}", a.name),
            &a.org_path,
            json!({ "name": name, "party_member": new.party_member, "id_number": id_masked,
                    "phone": phone_masked, "in_difficulty": new.in_difficulty,
                    "helped_on": helped_on, "change_note": change_note,
                    "mentor": new.mentor.trim(), "households_led": households_led,
                    "joined_on": joined_on }),
        ),
    )
    .await?;
    Ok(id)
}
