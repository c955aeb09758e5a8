//! Evidence files (佐证材料) attached to an assessment's items, stored by SHA-256.

use super::*;

pub(super) fn evidence_from_row(r: &AnyRow) -> Result<Evidence> {
    Ok(Evidence {
        id: r.try_get("id")?,
        assessment_id: r.try_get("assessment_id")?,
        item_id: r.try_get("item_id")?,
        sha256: r.try_get("sha256")?,
        mime: r.try_get("mime")?,
        size: r.try_get("size")?,
        file_name: r.try_get("file_name")?,
        uploaded_by: r.try_get("uploaded_by")?,
        uploaded_at: r.try_get("uploaded_at")?,
    })
}

impl Db {
    /// Records an evidence file already stored under its hash. The village adds evidence to its
    /// own draft.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_evidence(
        &self,
        actor: &Actor,
        assessment_id: i64,
        item_id: i64,
        sha256: &str,
        mime: &str,
        size: i64,
        file_name: &str,
        now: i64,
    ) -> Result<Evidence> {
        let mut tx = self.write().await?;
        let a = assessment_in(tx.conn(), &actor.scope, assessment_id).await?;
        let round = round_by_id(tx.conn(), a.round_id).await?;
        check_turn(actor, &a, &round)?;
        if a.stage != Stage::Draft {
            return Err(StoreError::Conflict(
                Msg::new("rating.error.out_of_turn").arg("stage", a.stage.as_str()),
            ));
        }
        let items = items_of(tx.conn(), a.set_id).await?;
        let item = items
            .iter()
            .find(|i| i.id == item_id)
            .ok_or(StoreError::NotFound)?;
        let name = crate::stored_file_name(file_name);
        let id: i64 = sqlx::query(
            "INSERT INTO evidence (assessment_id, item_id, sha256, mime, size, file_name, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(a.id)
        .bind(item_id)
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
                "evidence",
                &format!("{} {} {}", a.org_code, round.year, item.code),
                &a.org_path,
                serde_json::json!({"sha256": sha256, "mime": mime, "size": size, "file_name": name}),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Evidence {
            id,
            assessment_id: a.id,
            item_id,
            sha256: sha256.into(),
            mime: mime.into(),
            size,
            file_name: name,
            uploaded_by: actor.login.clone(),
            uploaded_at: now,
        })
    }

    /// An evidence record, if its village is in scope.
    pub async fn evidence(&self, scope: &Scope, id: i64) -> Result<Evidence> {
        let row = sqlx::query(
            "SELECT e.id, e.assessment_id, e.item_id, e.sha256, e.mime, e.size, e.file_name, \
             e.uploaded_by, e.uploaded_at FROM evidence e JOIN assessments a ON a.id = e.assessment_id \
             WHERE e.id = $1 AND a.org_path >= $2 AND a.org_path < $3",
        )
        .bind(id)
        .bind(scope.lower())
        .bind(scope.upper())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref()
            .map(evidence_from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }
}
