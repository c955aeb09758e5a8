//! Card readers (读卡器): registered to a node with a secret token, listed, revoked (by hand or
//! when their node is retired).

use super::*;

/// Revokes every device of a node being retired, each audited with the retirement's reason.
pub(crate) async fn revoke_devices_at(
    conn: &mut AnyConnection,
    actor: &Actor,
    org_code: &str,
    org_path: &str,
    reason: &str,
    now: i64,
) -> Result<usize> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM devices WHERE org_code = $1 AND revoked_at IS NULL")
            .bind(org_code)
            .fetch_all(&mut *conn)
            .await?;
    for id in &ids {
        sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(*id)
            .execute(&mut *conn)
            .await?;
        let mut change = Change::update(
            "device",
            &id.to_string(),
            org_path,
            json!({ "revoked_at": null }),
            json!({ "revoked_at": now }),
        );
        change.reason = Some(reason.to_string());
        audit::record(conn, actor, now, change).await?;
    }
    Ok(ids.len())
}

/// Follows the tree (`kernel::TreeEvent`) in the tree writer's transaction.
pub(crate) fn follow_tree<'c>(
    conn: &'c mut AnyConnection,
    actor: &'c Actor,
    event: &'c TreeEvent<'c>,
    now: i64,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'c>> {
    Box::pin(async move {
        match *event {
            // A retired node's card readers stop reading.
            TreeEvent::Retired { node, reason } => {
                revoke_devices_at(conn, actor, node.code.as_str(), &node.path, reason, now)
                    .await
                    .map(drop)
            }
            _ => Ok(()),
        }
    })
}

impl Db {
    /// Registers a card reader or kiosk at an organization (the CLI's `device add`).
    pub async fn create_device(
        &self,
        actor: &Actor,
        org: &OrgCode,
        name: &str,
        token_hash: &str,
        now: i64,
    ) -> Result<Device> {
        if !actor.role.may_manage_members() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        let name = baiqian_domain::org::parse_name(name)
            .map_err(|_| StoreError::Invalid(Msg::new("device.error.name")))?;
        let name = name.as_str();
        let mut tx = self.write().await?;
        let o = org_in_scope(tx.conn(), &actor.scope, org).await?;
        if o.is_retired() {
            return Err(StoreError::Invalid(Msg::new("org.error.retired")));
        }
        let id: i64 = sqlx::query("INSERT INTO devices (org_code, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id")
            .bind(o.code.as_str())
            .bind(name)
            .bind(token_hash)
            .bind(now)
            .fetch_one(tx.conn())
            .await?
            .try_get(0)?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::create(
                "device",
                &id.to_string(),
                &o.path,
                json!({ "org": o.code, "name": name }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(Device {
            id,
            org_code: o.code.to_string(),
            name: name.to_string(),
        })
    }

    /// The devices registered in the actor's scope, revoked ones too (with when).
    pub async fn devices(&self, actor: &Actor) -> Result<Vec<DeviceRow>> {
        self.devices_between(actor.scope.lower(), actor.scope.upper())
            .await
    }

    /// The devices of a node's subtree (the node in `scope`), revoked ones too.
    pub async fn devices_under(&self, scope: &Scope, code: &OrgCode) -> Result<Vec<DeviceRow>> {
        let node = org_in_scope(&mut *self.pool().acquire().await?, scope, code).await?;
        self.devices_between(
            &node.path,
            &baiqian_domain::org::path_upper_bound(&node.path),
        )
        .await
    }

    pub(super) async fn devices_between(&self, lower: &str, upper: &str) -> Result<Vec<DeviceRow>> {
        let rows = sqlx::query(
            "SELECT d.id, d.org_code, d.name, d.revoked_at, o.name AS org_name FROM devices d JOIN orgs o ON o.code = d.org_code \
             WHERE o.path >= $1 AND o.path < $2 ORDER BY d.revoked_at IS NOT NULL, o.path, d.id",
        )
        .bind(lower)
        .bind(upper)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DeviceRow {
                    device: Device {
                        id: r.try_get("id")?,
                        org_code: r.try_get("org_code")?,
                        name: r.try_get("name")?,
                    },
                    org_name: r.try_get("org_name")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes a device (a reader lost or stolen): its check-ins are refused from the next batch
    /// on, and its token at the door once servers' caches forget it.
    pub async fn revoke_device(&self, actor: &Actor, id: i64, now: i64) -> Result<Device> {
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "SELECT d.org_code, d.name, d.revoked_at, o.path FROM devices d JOIN orgs o ON o.code = d.org_code \
             WHERE d.id = $1 AND o.path >= $2 AND o.path < $3",
        )
        .bind(id)
        .bind(actor.scope.lower())
        .bind(actor.scope.upper())
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
        let device = Device {
            id,
            org_code: row.try_get("org_code")?,
            name: row.try_get("name")?,
        };
        // Out of scope read as absent above; in scope without the role is refused.
        if !actor.role.may_manage_members() {
            return Err(StoreError::Denied(Msg::new("error.denied")));
        }
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Err(StoreError::Conflict(Msg::new("device.error.revoked")));
        }
        let path: String = row.try_get("path")?;
        sqlx::query("UPDATE devices SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(tx.conn())
            .await?;
        audit::record(
            tx.conn(),
            actor,
            now,
            Change::update(
                "device",
                &id.to_string(),
                &path,
                json!({ "revoked_at": null }),
                json!({ "revoked_at": now }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Active accounts and devices at a node: what retiring it would end.
    pub async fn access_at(&self, node: &Node) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM users WHERE org_code = $1 AND disabled = 0), \
             (SELECT COUNT(*) FROM devices WHERE org_code = $1 AND revoked_at IS NULL)",
        )
        .bind(node.code.as_str())
        .fetch_one(self.pool())
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    pub async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>> {
        let row = sqlx::query(
            "SELECT id, org_code, name FROM devices WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(Device {
                id: r.try_get("id")?,
                org_code: r.try_get("org_code")?,
                name: r.try_get("name")?,
            })
        })
        .transpose()
    }
}
