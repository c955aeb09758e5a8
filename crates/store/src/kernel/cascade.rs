//! The one downward path from the tree to the areas: the tree's writer (`org`) announces what
//! happened to a node inside its transaction, and every area listed in `crate::TREE_FOLLOWERS`
//! updates its own records. The tree never names an area; an area never calls the tree's
//! writer.

use std::future::Future;
use std::pin::Pin;

use sqlx::AnyConnection;

use super::Org;
use crate::{Actor, Result};

/// What happened to a node, as the areas that keep records per node need to know it.
#[derive(Debug, Clone, Copy)]
pub enum TreeEvent<'a> {
    /// A node was created (a new village joins the open rating rounds).
    Created(&'a Org),
    /// A node was retired: what hung on it (accounts, readers, a place in open rounds) ends.
    Retired { node: &'a Org, reason: &'a str },
    /// A subtree moved: records carrying a path under `old_path` now sit under `new_path`.
    Moved {
        old_path: &'a str,
        new_path: &'a str,
    },
}

/// An area's follower: runs in the tree writer's transaction.
pub(crate) type Follower = for<'c> fn(
    &'c mut AnyConnection,
    &'c Actor,
    &'c TreeEvent<'c>,
    i64,
) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'c>>;

/// Tells every area what happened, in the order `crate::TREE_FOLLOWERS` lists them.
pub(crate) async fn tree_changed(
    conn: &mut AnyConnection,
    actor: &Actor,
    event: TreeEvent<'_>,
    now: i64,
) -> Result<()> {
    for follow in crate::TREE_FOLLOWERS {
        follow(&mut *conn, actor, &event, now).await?;
    }
    Ok(())
}
