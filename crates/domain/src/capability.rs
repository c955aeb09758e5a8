//! What each role may do (权限): one table, role × capability. Every route of the web layer
//! names the capability it needs, and a test walks the router for every role against this
//! table. Scope (which part of the tree) is checked apart from this: a capability says *what*
//! a role may do, the scope *where*.

use serde::Serialize;

use crate::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Anyone, signed in or not: the login page, signing out, health, static files, the
    /// language switch, and the readers' check-in endpoints (a reader authenticates with its own token).
    Public,
    /// Any account: its home, `/api/v1/me`.
    SignedIn,
    /// Any account: set up its own second factor, and give it at sign-in. The only routes open
    /// to a session still owing its second factor (signing out is public).
    OwnSecondFactor,
    /// The tree's public facts: an organization's page, its children, search.
    ReadTree,
    /// One's own member record, card and attendance. A role that may also read the roster
    /// reads any member in scope; a member reads only their own.
    ReadOwnRecord,
    /// The check-in flow of an activity day (扫码签到).
    CheckIn,
    /// The activity days (主题党日) of an organization.
    ReadActivityDays,
    /// The member roster (花名册), other members, teams.
    ReadRoster,
    /// Lists downloaded as Excel (organizations, standards).
    ExportLists,
    /// The roster's export: personal data (birth dates, workplaces).
    ExportPersonalData,
    /// Unmask one member's ID number and phone (each look audited).
    RevealPersonalData,
    /// Add, import and transfer members; cards; teams.
    ManageMembers,
    /// The card readers (读卡器) of an organization.
    ReadReaders,
    /// Register and revoke card readers.
    ManageReaders,
    /// Create activity days, record a check-in by hand.
    RunActivityDays,
    /// See an activity day's rotating check-in QR code (only officers: a member could
    /// otherwise check in from home).
    ShowCheckinCode,
    /// Attendance figures of an organization.
    ReadAttendance,
    /// Rating boards (星级评定), assessments and their evidence.
    ReadRatings,
    /// Score an assessment and move it on when its stage is the role's (self-assessment,
    /// township review, county review).
    Assess,
    /// Decide a village's class and assign the standard set of a county (县级审定).
    Approve,
    /// Open a rating round, set its rules, publish its results (市级发布).
    Publish,
    /// Read the published standards (评定标准).
    ReadStandards,
    /// Write standards: create a set, add items.
    ManageStandards,
    /// Import the village facts (collective income etc.) a rating reads.
    ImportVillageFacts,
    /// Create, move, retire and import nodes of the tree.
    ChangeTree,
    /// Edit a node's Party organization (secretary, member count).
    EditPartyOrg,
    /// Accounts below one's node.
    ManageAccounts,
    /// The problem ledgers (问题清单) of villages, their boards and situation files.
    ReadProblems,
    /// Report a problem, set its owner, measures and deadline (a later deadline as a request),
    /// start and rectify it, add evidence: the village and the administrations above it, who do
    /// the work. Leaders guide and look; they do not drive problems.
    ReportProblems,
    /// Check a rectified problem and close (销号) or reopen it, and decide a deadline extension:
    /// the level above the village, never on one's own work (the four-eyes rule).
    VerifyProblems,
    /// Leaders' visits (走访调研), their guided areas and pledges (公开承诺).
    ReadVisits,
    /// Log one's visits, make one's pledges, turn one's own visit's findings into problems (a
    /// leader acts only as themselves; an administration for any leader in scope).
    LogVisits,
    /// Name the leaders serving at a node and the areas each guides.
    ManageLeaders,
    /// Start a township's survey (排摸) and mark its villages surveyed.
    RunSurveys,
    /// A village's situation file (村情档案) and the files of the villages under a node.
    ReadVillageFiles,
    /// Write a year's entries in a village's file.
    KeepVillageFiles,
    /// The campaign's targets (目标) and progress against them at every level, the
    /// whole-township advancement (整乡提升) of the townships in scope, and their plans.
    ReadTargets,
    /// Set the campaign's targets and name model townships (先进乡镇): the city's.
    ManageCampaign,
    /// Write one's own node's plan of a year (a county's 规划, a township's 方案, a village's
    /// 计划), send it up, mark its items done; run one's own county's or township's projects
    /// (攻坚项目).
    KeepPlans,
    /// Approve the plans of the level below, or send them back with a reason.
    ApprovePlans,
    /// The village secretaries (村党组织书记) and first secretaries (第一书记) of the villages in
    /// scope: tenures, fitness, adjustments, dispatches and their reports.
    ReadCadres,
    /// Appoint a village secretary, adjust one found unfit (不胜任调整) with a reason, grade a
    /// year's fitness, record a first secretary's report; dispatch a first secretary and end a
    /// dispatch (the city's and counties' own, checked in the store).
    ManageCadres,
    /// The mutual-aid associations (党群创业互助会): their members, projects, grants, fund and
    /// credit loans, and the boards over them. Borrowers' ID numbers and phones stay masked.
    ReadAid,
    /// Keep an association's records: found one, add members and projects, apply for a grant
    /// or a loan, review a loan application, record money received, a grant paid, a loan
    /// disbursed, a repayment and a reversal. Who may do which step of one record is checked in
    /// the store (maker-checker: no one approves what they entered or reviewed, nor disburses
    /// what they approved).
    KeepAid,
    /// Approve or refuse a grant or a loan, and set a credit programme's terms: the township
    /// and the administrations above it.
    ApproveAid,
    /// The micro-wishes of one's part of the tree (党员微心愿): everyone, a member their own
    /// village's; the villager's details only for the poster, the claimer and the
    /// administrations.
    ReadWishes,
    /// Post a villager's wish, claim one, fulfil it, confirm one's own: the members and the
    /// administrations (who may also withdraw one nobody holds).
    KeepWishes,
    /// The red-butler service stations of one's part of the tree (红管家服务驿站), their
    /// figures, and the requests the public made to them (a member only those given to them).
    ReadStations,
    /// Open a station, keep a county's catalogue of services and a station's offer, give a
    /// request to a volunteer or withdraw one: the administrations down to the village.
    KeepStations,
    /// Mark a request given to oneself done: the volunteers (members) and the keepers.
    ServeStations,
    /// The public-welfare supervision posts (党建+公益岗) of one's part of the tree: their
    /// rota, patrols and the issues found; everyone.
    ReadPosts,
    /// Open a post and keep its rota: the administrations down to the township.
    KeepPosts,
    /// Log one's own patrol on a day one is on the rota, and the issues found on it: the members
    /// and the administrations.
    Patrol,
    /// The audit log (审计日志).
    ReadAudit,
    /// The server's Prometheus metrics.
    ReadMetrics,
}

use Role::{
    Auditor as A, CityAdmin as C, CountyAdmin as Co, Leader as L, Member as M, TownshipAdmin as T,
    VillageSecretary as S,
};

/// The table itself: each capability and the roles that hold it.
pub const GRANTS: &[(Capability, &[Role])] = &[
    (Capability::Public, &[C, Co, T, S, M, L, A]),
    (Capability::SignedIn, &[C, Co, T, S, M, L, A]),
    (Capability::OwnSecondFactor, &[C, Co, T, S, M, L, A]),
    (Capability::ReadTree, &[C, Co, T, S, M, L, A]),
    (Capability::ReadOwnRecord, &[C, Co, T, S, M, L, A]),
    (Capability::CheckIn, &[C, Co, T, S, M, L, A]),
    (Capability::ReadActivityDays, &[C, Co, T, S, M, L, A]),
    (Capability::ReadRoster, &[C, Co, T, S, L, A]),
    (Capability::ExportLists, &[C, Co, T, S, L, A]),
    (Capability::ExportPersonalData, &[C, Co, T, S]),
    (Capability::RevealPersonalData, &[C, Co, T, S]),
    (Capability::ManageMembers, &[C, Co, T, S]),
    (Capability::ReadReaders, &[C, Co, T, S, L, A]),
    (Capability::ManageReaders, &[C, Co, T, S]),
    (Capability::RunActivityDays, &[C, Co, T, S]),
    (Capability::ShowCheckinCode, &[C, Co, T, S]),
    (Capability::ReadAttendance, &[C, Co, T, S, L, A]),
    (Capability::ReadRatings, &[C, Co, T, S, L, A]),
    (Capability::Assess, &[C, Co, T, S]),
    (Capability::Approve, &[C, Co]),
    (Capability::Publish, &[C]),
    (Capability::ReadStandards, &[C, Co, T, S, L, A]),
    (Capability::ManageStandards, &[C, Co, T]),
    (Capability::ImportVillageFacts, &[C, Co, T]),
    (Capability::ChangeTree, &[C, Co, T]),
    (Capability::EditPartyOrg, &[C, Co, T, S]),
    (Capability::ManageAccounts, &[C, Co, T]),
    (Capability::ReadProblems, &[C, Co, T, S, L, A]),
    (Capability::ReportProblems, &[C, Co, T, S]),
    (Capability::VerifyProblems, &[C, Co, T]),
    (Capability::ReadVisits, &[C, Co, T, S, L, A]),
    (Capability::LogVisits, &[C, Co, T, L]),
    (Capability::ManageLeaders, &[C, Co, T]),
    (Capability::RunSurveys, &[C, Co, T]),
    (Capability::ReadVillageFiles, &[C, Co, T, S, L, A]),
    (Capability::KeepVillageFiles, &[C, Co, T, S]),
    (Capability::ReadTargets, &[C, Co, T, S, L, A]),
    (Capability::ManageCampaign, &[C]),
    (Capability::KeepPlans, &[Co, T, S]),
    (Capability::ApprovePlans, &[C, Co, T]),
    (Capability::ReadCadres, &[C, Co, T, S, L, A]),
    (Capability::ManageCadres, &[C, Co, T]),
    (Capability::ReadAid, &[C, Co, T, S, L, A]),
    (Capability::KeepAid, &[C, Co, T, S]),
    (Capability::ApproveAid, &[C, Co, T]),
    (Capability::ReadWishes, &[C, Co, T, S, M, L, A]),
    (Capability::KeepWishes, &[C, Co, T, S, M]),
    (Capability::ReadStations, &[C, Co, T, S, M, L, A]),
    (Capability::KeepStations, &[C, Co, T, S]),
    (Capability::ServeStations, &[C, Co, T, S, M]),
    (Capability::ReadPosts, &[C, Co, T, S, M, L, A]),
    (Capability::KeepPosts, &[C, Co, T]),
    (Capability::Patrol, &[C, Co, T, S, M]),
    (Capability::ReadAudit, &[C, Co, T, A]),
    (Capability::ReadMetrics, &[C]),
];

impl Capability {
    /// Every capability, in the table's order.
    pub fn all() -> impl Iterator<Item = Capability> {
        GRANTS.iter().map(|(c, _)| *c)
    }

    /// Whether a role without it is told the thing is not there (404, as for anything out of
    /// scope): what one may not read, one may not know exists. Acting without the capability
    /// on something one can see is refused openly (403).
    pub fn denied_as_absent(self) -> bool {
        !matches!(
            self,
            Capability::RevealPersonalData
                | Capability::ManageMembers
                | Capability::ManageReaders
                | Capability::RunActivityDays
                | Capability::Assess
                | Capability::Approve
                | Capability::Publish
                | Capability::ManageStandards
                | Capability::ImportVillageFacts
                | Capability::ChangeTree
                | Capability::EditPartyOrg
                | Capability::ReportProblems
                | Capability::VerifyProblems
                | Capability::LogVisits
                | Capability::ManageLeaders
                | Capability::KeepVillageFiles
                | Capability::RunSurveys
                | Capability::ManageCampaign
                | Capability::KeepPlans
                | Capability::ApprovePlans
                | Capability::ManageCadres
                | Capability::KeepAid
                | Capability::ApproveAid
                | Capability::KeepWishes
                | Capability::KeepStations
                | Capability::ServeStations
                | Capability::KeepPosts
                | Capability::Patrol
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Public => "public",
            Capability::SignedIn => "signed_in",
            Capability::OwnSecondFactor => "own_second_factor",
            Capability::ReadTree => "read_tree",
            Capability::ReadOwnRecord => "read_own_record",
            Capability::CheckIn => "check_in",
            Capability::ReadActivityDays => "read_activity_days",
            Capability::ReadRoster => "read_roster",
            Capability::ExportLists => "export_lists",
            Capability::ExportPersonalData => "export_personal_data",
            Capability::RevealPersonalData => "reveal_personal_data",
            Capability::ManageMembers => "manage_members",
            Capability::ReadReaders => "read_readers",
            Capability::ManageReaders => "manage_readers",
            Capability::RunActivityDays => "run_activity_days",
            Capability::ShowCheckinCode => "show_checkin_code",
            Capability::ReadAttendance => "read_attendance",
            Capability::ReadRatings => "read_ratings",
            Capability::Assess => "assess",
            Capability::Approve => "approve",
            Capability::Publish => "publish",
            Capability::ReadStandards => "read_standards",
            Capability::ManageStandards => "manage_standards",
            Capability::ImportVillageFacts => "import_village_facts",
            Capability::ChangeTree => "change_tree",
            Capability::EditPartyOrg => "edit_party_org",
            Capability::ManageAccounts => "manage_accounts",
            Capability::ReadProblems => "read_problems",
            Capability::ReportProblems => "report_problems",
            Capability::VerifyProblems => "verify_problems",
            Capability::ReadVisits => "read_visits",
            Capability::LogVisits => "log_visits",
            Capability::ManageLeaders => "manage_leaders",
            Capability::RunSurveys => "run_surveys",
            Capability::ReadVillageFiles => "read_village_files",
            Capability::KeepVillageFiles => "keep_village_files",
            Capability::ReadTargets => "read_targets",
            Capability::ManageCampaign => "manage_campaign",
            Capability::KeepPlans => "keep_plans",
            Capability::ApprovePlans => "approve_plans",
            Capability::ReadCadres => "read_cadres",
            Capability::ManageCadres => "manage_cadres",
            Capability::ReadAid => "read_aid",
            Capability::KeepAid => "keep_aid",
            Capability::ApproveAid => "approve_aid",
            Capability::ReadWishes => "read_wishes",
            Capability::KeepWishes => "keep_wishes",
            Capability::ReadStations => "read_stations",
            Capability::KeepStations => "keep_stations",
            Capability::ServeStations => "serve_stations",
            Capability::ReadPosts => "read_posts",
            Capability::KeepPosts => "keep_posts",
            Capability::Patrol => "patrol",
            Capability::ReadAudit => "read_audit",
            Capability::ReadMetrics => "read_metrics",
        }
    }
}

impl Role {
    /// Whether this role holds `cap` (the table above).
    pub fn may(self, cap: Capability) -> bool {
        GRANTS
            .iter()
            .find(|(c, _)| *c == cap)
            .is_some_and(|(_, roles)| roles.contains(&self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capability_is_in_the_table_once() {
        let mut seen = std::collections::HashSet::new();
        for (cap, _) in GRANTS {
            assert!(seen.insert(*cap), "{cap:?} twice in GRANTS");
        }
        // `as_str` is exhaustive over the enum, so a variant missing from GRANTS shows here.
        assert_eq!(seen.len(), 55);
    }

    #[test]
    fn a_member_posts_and_claims_wishes_but_a_leader_only_looks() {
        assert!(Role::Member.may(Capability::KeepWishes));
        assert!(!Role::Member.may(Capability::ReadAid));
        assert!(Role::Leader.may(Capability::ReadWishes));
        assert!(!Role::Leader.may(Capability::KeepWishes));
        assert!(!Capability::KeepWishes.denied_as_absent());
    }

    #[test]
    fn a_leader_guides_and_looks_but_does_not_drive_problems() {
        for cap in [
            Capability::ReadProblems,
            Capability::ReadVisits,
            Capability::LogVisits,
        ] {
            assert!(Role::Leader.may(cap), "leader may not {cap:?}");
        }
        for cap in [
            Capability::ReportProblems,
            Capability::VerifyProblems,
            Capability::ManageLeaders,
        ] {
            assert!(!Role::Leader.may(cap), "leader may {cap:?}");
        }
    }

    #[test]
    fn a_member_reads_only_what_is_theirs() {
        assert!(Role::Member.may(Capability::ReadOwnRecord));
        assert!(Role::Member.may(Capability::CheckIn));
        for cap in [
            Capability::ReadRoster,
            Capability::ExportPersonalData,
            Capability::ExportLists,
            Capability::ReadReaders,
            Capability::ReadAttendance,
        ] {
            assert!(!Role::Member.may(cap), "member may {cap:?}");
        }
    }
}
