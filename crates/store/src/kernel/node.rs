//! A node as found within a scope.

use std::ops::Deref;

use baiqian_domain::org::OrgCode;
use baiqian_domain::scope::Scope;
use serde::Serialize;

use super::{Org, org_in_scope};
use crate::{Db, Result};

/// A node of the tree as found within a caller's scope (范围内的节点). Only a lookup within a
/// `Scope` makes one (`Db::org` and the tree's other reads), so an area method that takes a
/// `&Node` cannot be handed a path or a code its caller may not see. It reads as the `Org` it
/// holds.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(transparent)]
pub struct Node(Org);

impl Node {
    /// For the kernel's lookups only: `org` was read under a scope bound.
    pub(crate) fn found(org: Org) -> Self {
        Self(org)
    }

    pub fn org(&self) -> &Org {
        &self.0
    }

    pub fn into_org(self) -> Org {
        self.0
    }
}

impl Deref for Node {
    type Target = Org;

    fn deref(&self) -> &Org {
        &self.0
    }
}

impl Db {
    /// The node with `code` if it lies in `scope` (retired nodes included), else `NotFound`.
    pub async fn org(&self, scope: &Scope, code: &OrgCode) -> Result<Node> {
        let mut conn = self.pool().acquire().await?;
        org_in_scope(&mut conn, scope, code).await.map(Node::found)
    }
}
