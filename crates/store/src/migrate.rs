//! Migrations, one history per backend, embedded in the binary.
//!
//! Each script runs in its own transaction together with its row in `schema_migrations`, so a
//! failed script leaves nothing half-applied. Applied scripts are never edited: a change is a new
//! file (expand, then contract).

use sqlx::Row;

use crate::{Backend, Db, Result, StoreError};

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "foundation",
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        name: "members",
        sqlite: include_str!("../migrations/sqlite/0002_members.sql"),
        postgres: include_str!("../migrations/postgres/0002_members.sql"),
    },
    Migration {
        version: 3,
        name: "checkins",
        sqlite: include_str!("../migrations/sqlite/0003_checkins.sql"),
        postgres: include_str!("../migrations/postgres/0003_checkins.sql"),
    },
    Migration {
        version: 4,
        name: "ratings",
        sqlite: include_str!("../migrations/sqlite/0004_ratings.sql"),
        postgres: include_str!("../migrations/postgres/0004_ratings.sql"),
    },
    Migration {
        version: 5,
        name: "teams",
        sqlite: include_str!("../migrations/sqlite/0005_teams.sql"),
        postgres: include_str!("../migrations/postgres/0005_teams.sql"),
    },
    Migration {
        version: 6,
        name: "jobs",
        sqlite: include_str!("../migrations/sqlite/0006_jobs.sql"),
        postgres: include_str!("../migrations/postgres/0006_jobs.sql"),
    },
    Migration {
        version: 7,
        name: "board_indexes",
        sqlite: include_str!("../migrations/sqlite/0007_board_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0007_board_indexes.sql"),
    },
    Migration {
        version: 8,
        name: "attendance_lists",
        sqlite: include_str!("../migrations/sqlite/0008_attendance_lists.sql"),
        postgres: include_str!("../migrations/postgres/0008_attendance_lists.sql"),
    },
    Migration {
        version: 9,
        name: "ledger",
        sqlite: include_str!("../migrations/sqlite/0009_ledger.sql"),
        postgres: include_str!("../migrations/postgres/0009_ledger.sql"),
    },
    Migration {
        version: 10,
        name: "village_files",
        sqlite: include_str!("../migrations/sqlite/0010_village_files.sql"),
        postgres: include_str!("../migrations/postgres/0010_village_files.sql"),
    },
    Migration {
        version: 11,
        name: "problem_groups",
        sqlite: include_str!("../migrations/sqlite/0011_problem_groups.sql"),
        postgres: include_str!("../migrations/postgres/0011_problem_groups.sql"),
    },
    Migration {
        version: 12,
        name: "deadline_extensions",
        sqlite: include_str!("../migrations/sqlite/0012_deadline_extensions.sql"),
        postgres: include_str!("../migrations/postgres/0012_deadline_extensions.sql"),
    },
    Migration {
        version: 13,
        name: "audit_chain",
        sqlite: include_str!("../migrations/sqlite/0013_audit_chain.sql"),
        postgres: include_str!("../migrations/postgres/0013_audit_chain.sql"),
    },
    Migration {
        version: 14,
        name: "second_factor",
        sqlite: include_str!("../migrations/sqlite/0014_second_factor.sql"),
        postgres: include_str!("../migrations/postgres/0014_second_factor.sql"),
    },
    Migration {
        version: 15,
        name: "campaign",
        sqlite: include_str!("../migrations/sqlite/0015_campaign.sql"),
        postgres: include_str!("../migrations/postgres/0015_campaign.sql"),
    },
    Migration {
        version: 16,
        name: "plans",
        sqlite: include_str!("../migrations/sqlite/0016_plans.sql"),
        postgres: include_str!("../migrations/postgres/0016_plans.sql"),
    },
    Migration {
        version: 17,
        name: "scheme_rule",
        sqlite: include_str!("../migrations/sqlite/0017_scheme_rule.sql"),
        postgres: include_str!("../migrations/postgres/0017_scheme_rule.sql"),
    },
    Migration {
        version: 18,
        name: "cadres",
        sqlite: include_str!("../migrations/sqlite/0018_cadres.sql"),
        postgres: include_str!("../migrations/postgres/0018_cadres.sql"),
    },
    Migration {
        version: 19,
        name: "projects",
        sqlite: include_str!("../migrations/sqlite/0019_projects.sql"),
        postgres: include_str!("../migrations/postgres/0019_projects.sql"),
    },
    Migration {
        version: 20,
        name: "plan_item_problems",
        sqlite: include_str!("../migrations/sqlite/0020_plan_item_problems.sql"),
        postgres: include_str!("../migrations/postgres/0020_plan_item_problems.sql"),
    },
    Migration {
        version: 21,
        name: "member_confirmed",
        sqlite: include_str!("../migrations/sqlite/0021_member_confirmed.sql"),
        postgres: include_str!("../migrations/postgres/0021_member_confirmed.sql"),
    },
    Migration {
        version: 22,
        name: "member_standing",
        sqlite: include_str!("../migrations/sqlite/0022_member_standing.sql"),
        postgres: include_str!("../migrations/postgres/0022_member_standing.sql"),
    },
    Migration {
        version: 23,
        name: "problem_update_deadline",
        sqlite: include_str!("../migrations/sqlite/0023_problem_update_deadline.sql"),
        postgres: include_str!("../migrations/postgres/0023_problem_update_deadline.sql"),
    },
    Migration {
        version: 24,
        name: "aid",
        sqlite: include_str!("../migrations/sqlite/0024_aid.sql"),
        postgres: include_str!("../migrations/postgres/0024_aid.sql"),
    },
    Migration {
        version: 25,
        name: "aid_tallies",
        sqlite: include_str!("../migrations/sqlite/0025_aid_tallies.sql"),
        postgres: include_str!("../migrations/postgres/0025_aid_tallies.sql"),
    },
    Migration {
        version: 26,
        name: "wishes",
        sqlite: include_str!("../migrations/sqlite/0026_wishes.sql"),
        postgres: include_str!("../migrations/postgres/0026_wishes.sql"),
    },
    Migration {
        version: 27,
        name: "stations",
        sqlite: include_str!("../migrations/sqlite/0027_stations.sql"),
        postgres: include_str!("../migrations/postgres/0027_stations.sql"),
    },
    Migration {
        version: 28,
        name: "welfare_posts",
        sqlite: include_str!("../migrations/sqlite/0028_welfare_posts.sql"),
        postgres: include_str!("../migrations/postgres/0028_welfare_posts.sql"),
    },
    Migration {
        version: 29,
        name: "nodes",
        sqlite: include_str!("../migrations/sqlite/0029_nodes.sql"),
        postgres: include_str!("../migrations/postgres/0029_nodes.sql"),
    },
    Migration {
        version: 30,
        name: "checkins_without_row_locks",
        sqlite: include_str!("../migrations/sqlite/0030_checkins_without_row_locks.sql"),
        postgres: include_str!("../migrations/postgres/0030_checkins_without_row_locks.sql"),
    },
];

/// Several nodes may start at once on one PostgreSQL database: each migration runs under a
/// transaction-scoped advisory lock, so one node applies it and the others find it applied.
/// SQLite's one writer already serializes them.
async fn lock_migrations(backend: Backend, tx: &mut crate::WriteTx) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(3402190001)")
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

impl Db {
    /// Applies every migration not yet applied; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        const AUDIT_CHAIN_VERSION: i64 = 13;
        {
            let mut tx = self.write().await?;
            lock_migrations(self.backend(), &mut tx).await?;
            sqlx::raw_sql(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
            )
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
        }
        let applied: Vec<i64> = sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>(0))
            .collect::<Result<_, _>>()?;
        let mut ran = 0;
        for m in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
            let script = match self.backend() {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            let mut tx = self.write().await?;
            lock_migrations(self.backend(), &mut tx).await?;
            // Another node may have applied it while this one waited for the lock.
            let done: i64 =
                sqlx::query("SELECT COUNT(*) FROM schema_migrations WHERE version = $1")
                    .bind(m.version)
                    .fetch_one(tx.conn())
                    .await?
                    .try_get(0)?;
            if done > 0 {
                continue;
            }
            sqlx::raw_sql(script)
                .execute(tx.conn())
                .await
                .map_err(|e| StoreError::Migration(m.name.into(), e.to_string()))?;
            if m.version == AUDIT_CHAIN_VERSION {
                // Rows kept before the chain are sealed into it, oldest first, and only then
                // is the log append-only again.
                let sealed = crate::audit::chain::seal_unchained(tx.conn()).await?;
                sqlx::raw_sql(crate::audit::chain::guards(self.backend()))
                    .execute(tx.conn())
                    .await
                    .map_err(|e| StoreError::Migration(m.name.into(), e.to_string()))?;
                tracing::info!(rows = sealed, "audit rows sealed into the chain");
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            sqlx::query(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(now)
            .execute(tx.conn())
            .await?;
            tx.commit().await?;
            tracing::info!(
                version = m.version,
                name = m.name,
                backend = self.backend().as_str(),
                "migration applied"
            );
            ran += 1;
        }
        Ok(ran)
    }
}
