//! Roles (角色) and what each may do within its scope.

use serde::Serialize;

use crate::org::Level;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// 市委组织部
    CityAdmin,
    /// 县(区)委组织部
    CountyAdmin,
    /// 乡镇(街道)党委
    TownshipAdmin,
    /// 村党组织书记 / 第一书记
    VillageSecretary,
    /// 党员
    Member,
    /// 领导: reads and logs visits in assigned areas
    Leader,
    /// 审计: reads everything in scope, and the audit log
    Auditor,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::CityAdmin,
        Role::CountyAdmin,
        Role::TownshipAdmin,
        Role::VillageSecretary,
        Role::Member,
        Role::Leader,
        Role::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::CityAdmin => "city-admin",
            Role::CountyAdmin => "county-admin",
            Role::TownshipAdmin => "township-admin",
            Role::VillageSecretary => "village-secretary",
            Role::Member => "member",
            Role::Leader => "leader",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Result<Self, RoleError> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| RoleError::Unknown(s.chars().take(30).collect()))
    }

    /// Admins of an area: they change the tree and the accounts under their node.
    pub fn is_admin(self) -> bool {
        matches!(
            self,
            Role::CityAdmin | Role::CountyAdmin | Role::TownshipAdmin
        )
    }

    /// Changes the tree below the scope root: create, rename, move, retire, import.
    pub fn may_change_tree(self) -> bool {
        self.may(crate::capability::Capability::ChangeTree)
    }

    /// Edits the Party organization details (secretary, member count) of nodes in scope.
    pub fn may_edit_party_org(self) -> bool {
        self.may(crate::capability::Capability::EditPartyOrg)
    }

    /// Keeps the member roster: add members, transfer them, import.
    pub fn may_manage_members(self) -> bool {
        self.may(crate::capability::Capability::ManageMembers)
    }

    /// Sees ID numbers and phones unmasked (each look is audited).
    pub fn may_see_personal_data(self) -> bool {
        self.may(crate::capability::Capability::RevealPersonalData)
    }

    pub fn may_manage_accounts(self) -> bool {
        self.may(crate::capability::Capability::ManageAccounts)
    }

    pub fn may_read_audit(self) -> bool {
        self.may(crate::capability::Capability::ReadAudit)
    }

    pub fn may_read_metrics(self) -> bool {
        self.may(crate::capability::Capability::ReadMetrics)
    }

    /// The levels of node an account of this role may be attached to.
    pub fn fits_level(self, level: Level) -> bool {
        match self {
            Role::CityAdmin => level == Level::City,
            Role::CountyAdmin => level == Level::County,
            Role::TownshipAdmin => level == Level::Township,
            Role::VillageSecretary => level == Level::Village,
            Role::Member => matches!(
                level,
                Level::Village | Level::Enterprise | Level::Institution
            ),
            Role::Leader | Role::Auditor => level.is_area(),
        }
    }

    /// Whether an admin of this role may create or manage an account of `other` role.
    /// Admins manage every role but never one above their own.
    pub fn may_grant(self, other: Role) -> bool {
        match self {
            Role::CityAdmin => true,
            Role::CountyAdmin => other != Role::CityAdmin,
            Role::TownshipAdmin => !matches!(other, Role::CityAdmin | Role::CountyAdmin),
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("unknown role {0:?}")]
    Unknown(String),
}
