//! The audit log in words: actions and objects by name in the reader's language, and a change
//! as a table of the fields that differ, with money, dates and yes/no shown as people read them.
//! The stored rows keep their codes and JSON (the API and the tests read those).

use serde_json::Value;

use crate::i18n::Tr;

/// Every action the store records (`audit_log.action`), in the order the filter offers them.
pub const ACTIONS: &[&str] = &[
    "create",
    "update",
    "bulk_load",
    "move",
    "retire",
    "transfer",
    "reveal",
    "disable",
    "enable",
    "lock",
    "unlock",
    "enable_second_factor",
    "use_recovery_code",
    "replace_recovery_codes",
    "reset_second_factor",
    "issue_token",
    "lost",
    "revoked",
    "reissue",
    "submit",
    "review",
    "approve",
    "send_back",
    "decide",
    "assign_set",
    "rerate",
    "bulk_score",
    "publish",
    "withdraw",
    "start",
    "rectify",
    "verify",
    "reopen",
    "finish",
    "adjust",
    "end",
    "grade",
    "report",
    "refuse",
    "disburse",
    "repay",
    "reverse",
    "mark_overdue",
    "pay",
    "outcome",
    "import",
    "assign",
    "complete",
    "dismiss",
];

/// Every kind of object the store records (`audit_log.entity`).
pub const ENTITIES: &[&str] = &[
    "org",
    "member",
    "member_card",
    "user",
    "api_token",
    "activity_day",
    "device",
    "volunteer_team",
    "volunteer_team_member",
    "rating_round",
    "assessment",
    "self_assessment",
    "review",
    "village_class",
    "village_facts",
    "evidence",
    "standard_set",
    "standard_item",
    "problem",
    "problem_evidence",
    "problem_overdue",
    "leader",
    "leader_area",
    "visit",
    "pledge",
    "survey",
    "survey_village",
    "village_file",
    "campaign",
    "campaign_target",
    "model_township",
    "plan",
    "plan_item",
    "secretary",
    "fitness",
    "first_secretary",
    "report",
    "project",
    "project_village",
    "aid_association",
    "aid_member",
    "aid_project",
    "aid_programme",
    "aid_loan",
    "aid_grant",
    "aid_fund",
    "aid_repayment",
    "station",
    "station_service",
    "service_request",
    "welfare_post",
    "post_duty",
    "patrol",
    "patrol_issue",
];

/// Fields whose values are codes of a vocabulary, and where their words are (a field may name
/// codes of more than one: a project's kind, a visit's kind).
const CODED: &[(&str, &str)] = &[
    ("measure", "plan.measure."),
    ("kind", "project.kind."),
    ("kind", "visit.kind."),
    ("origin", "cadre.origin."),
    ("grade", "cadre.grade."),
    ("end_kind", "cadre.end."),
    ("sent_from", "cadre.sent_from."),
    ("source", "problem.source."),
    ("kind", "aid.project."),
    ("method", "aid.method."),
    ("loan_stage", "aid.stage."),
    ("grant_stage", "aid.grant_stage."),
    ("wish_status", "wish.status."),
    ("request_status", "station.status."),
    ("domain", "station.domain."),
    ("mode", "station.mode."),
];

/// Fields held as 0/1 numbers that mean yes/no.
const FLAG_FIELDS: &[&str] = &[
    "mobile",
    "manual",
    "published",
    "vetoed",
    "disabled",
    "beautiful",
    "veto",
    "overdue",
    "party_member",
    "in_difficulty",
];

/// One field of a change: its name and its value before and after, as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
}

/// An action code in words; an unknown code is shown as it is.
pub fn action(tr: Tr, code: &str) -> String {
    words(tr, "audit.action.", code)
}

/// An object kind in words; an unknown kind is shown as it is.
pub fn entity(tr: Tr, code: &str) -> String {
    words(tr, "audit.entity.", code)
}

fn words(tr: Tr, prefix: &str, code: &str) -> String {
    let key = format!("{prefix}{code}");
    let text = tr.t(&key);
    if text == key {
        code.to_string()
    } else {
        text.to_string()
    }
}

/// The fields that differ between `before` and `after` (stored JSON, either absent), in the
/// order they were written; a creation lists every field it set, a removal every field it had.
pub fn changes(tr: Tr, before: Option<&str>, after: Option<&str>) -> Vec<FieldChange> {
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<Value>(s).ok());
    let (before, after) = (parse(before), parse(after));
    let empty = serde_json::Map::new();
    let as_object = |v: &Option<Value>| match v {
        Some(Value::Object(m)) => Some(m.clone()),
        Some(other) => {
            let mut m = serde_json::Map::new();
            m.insert("value".into(), other.clone());
            Some(m)
        }
        None => None,
    };
    let (b, a) = (as_object(&before), as_object(&after));
    let (bm, am) = (b.as_ref().unwrap_or(&empty), a.as_ref().unwrap_or(&empty));
    let mut keys: Vec<&String> = bm.keys().collect();
    keys.extend(am.keys().filter(|k| !bm.contains_key(*k)));
    keys.into_iter()
        .filter_map(|k| {
            let (old, new) = (bm.get(k), am.get(k));
            let unset = |v: Option<&Value>| v.is_none_or(Value::is_null);
            if old == new || (unset(old) && unset(new)) {
                return None;
            }
            Some(FieldChange {
                field: field(tr, k),
                before: old.map_or_else(|| "—".into(), |v| value(tr, k, v)),
                after: new.map_or_else(|| "—".into(), |v| value(tr, k, v)),
            })
        })
        .collect()
}

/// A field's name in words, or the name itself.
fn field(tr: Tr, name: &str) -> String {
    words(tr, "audit.field.", name)
}

/// A stored value as a reader reads it: money in yuan with separators, instants as date and
/// time, flags as yes/no, coded values (level, role, stage…) by name, lists joined.
pub fn value(tr: Tr, field: &str, v: &Value) -> String {
    let yes_no = |b: bool| tr.t(if b { "audit.yes" } else { "audit.no" }).to_string();
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => yes_no(*b),
        Value::Number(n) => {
            let Some(i) = n.as_i64() else {
                return n.to_string();
            };
            if field.ends_with("_fen") {
                yuan(tr, i)
            } else if field.ends_with("_tenth_mu") {
                // Kept in tenths of a mu (亩), shown as written: 150 → 15, 155 → 15.5.
                let tenths = if i % 10 == 0 {
                    tr.num(i / 10)
                } else {
                    format!("{}.{}", tr.num(i / 10), (i % 10).abs())
                };
                tr.f("audit.mu", &[("n", &tenths)])
            } else if field.ends_with("_at") || field == "locked_until" {
                tr.datetime(i)
            } else if FLAG_FIELDS.contains(&field) && (i == 0 || i == 1) {
                yes_no(i == 1)
            } else if field == "id" || field.ends_with("_id") || field == "year" {
                i.to_string()
            } else {
                tr.num(i)
            }
        }
        Value::String(s) => {
            let coded = match field {
                "level" => Some(tr.level(s)),
                "role" => Some(tr.role(s)),
                "gender" => Some(tr.gender(s)),
                "party_org_kind" => Some(tr.party_kind(s)),
                "stage" => Some(tr.t(&format!("rating.stage.{s}")).to_string()),
                "class" => Some(tr.t(&format!("rating.class.{s}")).to_string()),
                "status" => Some(words(tr, "audit.status.", s)),
                _ => CODED
                    .iter()
                    .filter(|(f, _)| *f == field)
                    .map(|(_, prefix)| words(tr, prefix, s))
                    .find(|w| w != s),
            };
            coded.unwrap_or_else(|| s.clone())
        }
        Value::Array(items) => items
            .iter()
            .map(|i| value(tr, field, i))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{}: {}", self::field(tr, k), value(tr, k, v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Fen as yuan: `¥549,734.00`.
fn yuan(tr: Tr, fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let f = fen.unsigned_abs();
    let whole = i64::try_from(f / 100).unwrap_or(i64::MAX);
    format!("{sign}¥{}.{:02}", tr.num(whole), f % 100)
}

/// A change as one line of text, for the spreadsheet: `field: before → after; …`.
pub fn changes_line(changes: &[FieldChange]) -> String {
    changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, c.before, c.after))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn every_action_and_object_has_words_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let tr = Tr::new(lang);
            for a in ACTIONS {
                assert_ne!(action(tr, a), *a, "{a} in {lang:?}");
            }
            for e in ENTITIES {
                assert_ne!(entity(tr, e), *e, "{e} in {lang:?}");
            }
        }
    }

    #[test]
    fn a_change_shows_the_fields_that_differ_as_people_read_them() {
        let tr = Tr::new(Lang::Zh);
        let rows = changes(
            tr,
            Some(
                r#"{"income_fen":54973400,"created_at":1796175185665,"mobile":0,"name":"新民村","note":null}"#,
            ),
            Some(
                r#"{"income_fen":-5,"created_at":1796175185665,"mobile":1,"name":"新民村","level":"village"}"#,
            ),
        );
        assert_eq!(
            rows,
            vec![
                FieldChange {
                    field: tr.t("audit.field.income_fen").into(),
                    before: "¥549,734.00".into(),
                    after: "-¥0.05".into(),
                },
                FieldChange {
                    field: tr.t("audit.field.mobile").into(),
                    before: "否".into(),
                    after: "是".into(),
                },
                FieldChange {
                    field: tr.t("audit.field.level").into(),
                    before: "—".into(),
                    after: tr.level("village"),
                },
            ]
        );
        assert_eq!(
            value(tr, "created_at", &serde_json::json!(1_796_175_185_665_i64)),
            tr.datetime(1_796_175_185_665_i64)
        );
        assert!(!tr.datetime(1_796_175_185_665_i64).contains("1796"));
        let en = Tr::new(Lang::En);
        assert_eq!(value(en, "disabled", &serde_json::json!(true)), "Yes");
        assert_eq!(action(en, "no_such_action"), "no_such_action");
    }
}
