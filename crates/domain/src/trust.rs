//! Rules that keep the records honest, shared by every area (复核): the four-eyes rule, and how a
//! deadline may move.

use crate::Msg;

/// The four-eyes rule (四眼原则): whoever checks, closes or approves a piece of work is not whoever
/// did, recorded or requested it. `checker` and `makers` are logins; `Err` names the rule.
pub fn four_eyes<'a>(checker: &str, makers: impl IntoIterator<Item = &'a str>) -> Result<(), Msg> {
    if makers.into_iter().any(|m| m == checker) {
        Err(Msg::new("trust.error.four_eyes"))
    } else {
        Ok(())
    }
}

/// How a new deadline (`YYYY-MM-DD`) stands to the one in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineMove {
    Unchanged,
    /// Sooner: taken at once, with its reason.
    Earlier,
    /// Later than agreed: a request (延期申请) that the level above approves or refuses.
    Later,
}

impl DeadlineMove {
    pub fn of(in_force: &str, new: &str) -> DeadlineMove {
        match new.cmp(in_force) {
            std::cmp::Ordering::Equal => DeadlineMove::Unchanged,
            std::cmp::Ordering::Less => DeadlineMove::Earlier,
            std::cmp::Ordering::Greater => DeadlineMove::Later,
        }
    }
}

/// A deadline extension's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionStatus {
    /// 待审批
    Pending,
    /// 已批准: the problem's deadline is the requested one.
    Approved,
    /// 未批准: the deadline stays.
    Refused,
}

impl ExtensionStatus {
    pub const ALL: [ExtensionStatus; 3] = [
        ExtensionStatus::Pending,
        ExtensionStatus::Approved,
        ExtensionStatus::Refused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionStatus::Pending => "pending",
            ExtensionStatus::Approved => "approved",
            ExtensionStatus::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_maker_never_checks_their_own_work() {
        assert!(four_eyes("hefu.admin", ["chenta.secretary"]).is_ok());
        assert!(four_eyes("hefu.admin", []).is_ok());
        let e = four_eyes("hefu.admin", ["chenta.secretary", "hefu.admin"]);
        assert_eq!(e.map_err(|m| m.key), Err("trust.error.four_eyes"));
    }

    /// A rating's steps need no call to `four_eyes`: each stage is another role's, and an
    /// account holds one role, so nobody approves a stage they did.
    #[test]
    fn each_rating_stage_is_another_roles() {
        use crate::rating::Stage;
        let actors: Vec<_> = [
            Stage::Draft,
            Stage::Submitted,
            Stage::Reviewed,
            Stage::Approved,
        ]
        .into_iter()
        .map(Stage::actor)
        .collect();
        assert!(actors.iter().all(Option::is_some));
        let distinct: std::collections::HashSet<_> = actors.iter().collect();
        assert_eq!(distinct.len(), actors.len(), "{actors:?}");
    }

    #[test]
    fn a_deadline_moves_earlier_later_or_not_at_all() {
        assert_eq!(
            DeadlineMove::of("2026-11-30", "2026-11-30"),
            DeadlineMove::Unchanged
        );
        assert_eq!(
            DeadlineMove::of("2026-11-30", "2026-10-01"),
            DeadlineMove::Earlier
        );
        assert_eq!(
            DeadlineMove::of("2026-11-30", "2099-12-31"),
            DeadlineMove::Later
        );
        for s in ExtensionStatus::ALL {
            assert_eq!(ExtensionStatus::parse(s.as_str()), Some(s));
        }
    }
}
