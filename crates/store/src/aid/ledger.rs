//! The associations' ledgers from officials' own sheets (台账导入): associations, their
//! members, grant applications and loan applications. Each row goes through the very checks
//! and writes of the form that enters one record (`insert_association`, `insert_member`,
//! `insert_grant`, `insert_loan`), one audit row each, inside a savepoint so that "good rows
//! only" keeps going past a row the database refuses; a refusal is reported at the column it
//! concerns. Grants and loans come in as applications: the sheet is the maker, and approval,
//! payment and disbursement stay with other hands on the record's page.

use baiqian_domain::Msg;
use baiqian_domain::member::IdNumber;
use sqlx::{AnyConnection, Row};

use super::grant::insert_grant;
use super::loan::insert_loan;
use super::{
    ASSOCIATION_COLUMNS, Association, NewAidMember, NewAssociation, association_from_row,
    insert_association, insert_member, keeps,
};
use crate::check::{denied, past_date, yes_no};
use crate::import::{ImportError, ImportMode, ImportOutcome, pick_org};
use crate::kernel::{Node, Org, orgs_under};
use crate::vault::Vault;
use crate::{Actor, Db, Result, StoreError};

/// One row of an aid ledger sheet, as read. `org` (the village or township, by name or code)
/// may be blank where the association's name is unique under the node.
#[derive(Debug, Clone)]
pub struct AidLedgerRow {
    pub row: usize,
    pub org: String,
    pub association: String,
    pub record: AidRecord,
}

/// What a row enters, as typed.
#[derive(Debug, Clone)]
pub enum AidRecord {
    /// An association named by the row's `association` cell.
    Association { trade: String, founded_on: String },
    /// A member; Party member and household in difficulty as yes/no cells.
    Member {
        member: NewAidMember,
        party_member: String,
        in_difficulty: String,
    },
    /// A grant applied for, to a member named (and, where names repeat, by ID number).
    Grant {
        beneficiary: String,
        id_number: String,
        purpose: String,
        amount: String,
    },
    /// A loan applied for under a programme named (blank when only one applies).
    Loan {
        borrower: String,
        id_number: String,
        programme: String,
        principal: String,
        purpose: String,
    },
}

/// Why a row was not entered: a cell's fault, or a failure that ends the import.
enum Fail {
    Cell(&'static str, Msg),
    Store(StoreError),
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Store(e)
    }
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Store(e.into())
    }
}

/// The column a refusal of a record's own checks concerns, by its message.
fn column_of(record: &AidRecord, key: &str) -> &'static str {
    match (record, key) {
        (AidRecord::Association { .. }, "aid.error.not_village") => "org",
        (AidRecord::Association { .. }, "aid.error.trade") => "trade",
        (AidRecord::Association { .. }, "aid.error.date" | "cadre.error.future") => "founded_on",
        (AidRecord::Association { .. }, _) => "association",
        (AidRecord::Member { .. }, "aid.error.date" | "cadre.error.future") => "joined_on",
        (AidRecord::Member { .. }, "aid.error.helped_not_in_difficulty") => "helped_on",
        (AidRecord::Member { .. }, "aid.error.households") => "households_led",
        (AidRecord::Member { .. }, "aid.error.note") => "change_note",
        (AidRecord::Member { .. }, "aid.error.mentor") => "mentor",
        (AidRecord::Member { .. }, "member.error.phone") => "phone",
        (AidRecord::Member { .. }, k) if k.starts_with("member.error.") => "id_number",
        (AidRecord::Member { .. }, "aid.error.member_exists") => "id_number",
        (AidRecord::Member { .. }, _) => "name",
        (AidRecord::Grant { .. }, "aid.error.purpose") => "purpose",
        (AidRecord::Grant { .. }, "aid.error.borrower") => "beneficiary",
        (AidRecord::Grant { .. }, _) => "amount",
        (AidRecord::Loan { .. }, "aid.error.purpose") => "purpose",
        (AidRecord::Loan { .. }, "aid.error.programme") => "programme",
        (AidRecord::Loan { .. }, "aid.error.borrower") => "borrower",
        (AidRecord::Loan { .. }, _) => "principal",
    }
}

impl Db {
    /// Enters the records of a ledger sheet under `node`. In `AllOrNothing` mode one bad row
    /// writes nothing; every bad row is reported either way.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_aid_ledger(
        &self,
        actor: &Actor,
        vault: &Vault,
        node: &Node,
        rows: &[AidLedgerRow],
        mode: ImportMode,
        today: &str,
        now: i64,
    ) -> Result<ImportOutcome> {
        if !keeps(actor, &node.path) {
            return Err(denied());
        }
        let mut out = ImportOutcome::default();
        let mut tx = self.write().await?;
        let places = orgs_under(tx.conn(), actor, node, "'township', 'village'").await?;
        for r in rows {
            sqlx::query("SAVEPOINT aid_row").execute(tx.conn()).await?;
            let fail = match enter(tx.conn(), actor, vault, node, &places, r, today, now).await {
                Ok(()) => None,
                Err(Fail::Cell(column, msg)) => Some((column, msg)),
                Err(Fail::Store(
                    StoreError::Invalid(msg) | StoreError::Conflict(msg) | StoreError::Denied(msg),
                )) => Some((column_of(&r.record, msg.key), msg)),
                Err(Fail::Store(e)) => return Err(e),
            };
            match fail {
                None => out.created += 1,
                Some((column, msg)) => {
                    out.errors.push(ImportError {
                        row: r.row,
                        column,
                        msg,
                    });
                    sqlx::query("ROLLBACK TO SAVEPOINT aid_row")
                        .execute(tx.conn())
                        .await?;
                }
            }
            sqlx::query("RELEASE SAVEPOINT aid_row")
                .execute(tx.conn())
                .await?;
        }
        if out.created > 0 && (out.errors.is_empty() || mode == ImportMode::GoodRowsOnly) {
            tx.commit().await?;
            out.committed = true;
        } else {
            drop(tx);
            out.created = 0;
        }
        Ok(out)
    }
}

/// Enters one row's record.
#[allow(clippy::too_many_arguments)]
async fn enter(
    conn: &mut AnyConnection,
    actor: &Actor,
    vault: &Vault,
    node: &Node,
    places: &[Org],
    r: &AidLedgerRow,
    today: &str,
    now: i64,
) -> std::result::Result<(), Fail> {
    let place = match r.org.trim() {
        "" => None,
        cell => Some(pick_org(places, cell).map_err(|m| Fail::Cell("org", m))?),
    };
    match &r.record {
        AidRecord::Association { trade, founded_on } => {
            let place = place.ok_or_else(|| Fail::Cell("org", Msg::new("aid.error.org_needed")))?;
            let new = NewAssociation {
                name: r.association.clone(),
                trade: trade.clone(),
                founded_on: founded_on.clone(),
            };
            insert_association(conn, actor, &Node::found(place.clone()), &new, today, now).await?;
        }
        AidRecord::Member {
            member,
            party_member,
            in_difficulty,
        } => {
            let a = association(conn, node, place, &r.association).await?;
            let mut member = member.clone();
            member.party_member = match party_member.trim() {
                "党员" | "中共党员" | "预备党员" => Some(true),
                "群众" => Some(false),
                other => yes_no(other),
            }
            .ok_or_else(|| Fail::Cell("party_member", Msg::new("import.error.yes_no")))?;
            member.in_difficulty = match in_difficulty.trim() {
                "困难户" | "低收入户" | "低保户" => Some(true),
                other => yes_no(other),
            }
            .ok_or_else(|| Fail::Cell("in_difficulty", Msg::new("import.error.yes_no")))?;
            // Both dates share the form's message; the helped-on one is checked here to be
            // reported at its own column.
            if !member.helped_on.trim().is_empty() {
                past_date(&member.helped_on, today, "aid.error.date").map_err(|e| match e {
                    StoreError::Invalid(m) => Fail::Cell("helped_on", m),
                    e => Fail::Store(e),
                })?;
            }
            insert_member(conn, actor, vault, &a, &member, today, now).await?;
        }
        AidRecord::Grant {
            beneficiary,
            id_number,
            purpose,
            amount,
        } => {
            let a = association(conn, node, place, &r.association).await?;
            let beneficiary_id =
                member_of(conn, vault, &a, beneficiary, id_number, "beneficiary").await?;
            let new = super::NewGrant {
                beneficiary_id,
                purpose: purpose.clone(),
                amount: amount.clone(),
            };
            insert_grant(conn, actor, &a, &new, now).await?;
        }
        AidRecord::Loan {
            borrower,
            id_number,
            programme,
            principal,
            purpose,
        } => {
            let a = association(conn, node, place, &r.association).await?;
            let borrower_id = member_of(conn, vault, &a, borrower, id_number, "borrower").await?;
            let programme_id = programme_for(conn, &a, programme).await?;
            let new = super::NewLoan {
                programme_id,
                borrower_id,
                principal: principal.clone(),
                purpose: purpose.clone(),
            };
            insert_loan(conn, actor, &a, &new, now).await?;
        }
    }
    Ok(())
}

/// The one association under `node` (at `place` when the row names one) called `name`.
async fn association(
    conn: &mut AnyConnection,
    node: &Node,
    place: Option<&Org>,
    name: &str,
) -> std::result::Result<Association, Fail> {
    let name = name.trim();
    let found = sqlx::query(&format!(
        "SELECT {ASSOCIATION_COLUMNS} FROM aid_associations a JOIN orgs o ON o.code = a.org_code \
         WHERE a.org_path >= $1 AND a.org_path < $2 AND a.name = $3 ORDER BY a.org_path LIMIT 20"
    ))
    .bind(&node.path)
    .bind(baiqian_domain::org::path_upper_bound(&node.path))
    .bind(name)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(association_from_row)
    .collect::<Result<Vec<_>>>()?
    .into_iter()
    .filter(|a| place.is_none_or(|p| p.code.as_str() == a.org_code))
    .collect::<Vec<_>>();
    match <[Association; 1]>::try_from(found) {
        Ok([one]) => Ok(one),
        Err(v) if v.is_empty() => Err(Fail::Cell(
            "association",
            Msg::new("aid.error.no_association").arg("name", name),
        )),
        Err(v) => Err(Fail::Cell(
            "org",
            Msg::new("aid.error.association_ambiguous")
                .arg("name", name)
                .arg(
                    "candidates",
                    v.iter()
                        .map(|a| a.org_name.as_str())
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
        )),
    }
}

/// The member of `a` a row names: by ID number when the row gives one (the name, if given,
/// must match), else by a name no other member of the association shares.
async fn member_of(
    conn: &mut AnyConnection,
    vault: &Vault,
    a: &Association,
    name: &str,
    id_number: &str,
    column: &'static str,
) -> std::result::Result<i64, Fail> {
    let name = name.trim();
    let found: Vec<(i64, String)> = if id_number.trim().is_empty() {
        sqlx::query("SELECT id, name FROM aid_members WHERE association_id = $1 AND name = $2")
            .bind(a.id)
            .bind(name)
            .fetch_all(&mut *conn)
            .await?
    } else {
        let id = IdNumber::parse(id_number).map_err(|e| Fail::Cell("id_number", e.msg()))?;
        sqlx::query("SELECT id, name FROM aid_members WHERE association_id = $1 AND id_hash = $2")
            .bind(a.id)
            .bind(vault.hash(id.as_str()))
            .fetch_all(&mut *conn)
            .await?
    }
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_>>()?;
    match found.as_slice() {
        [(id, found_name)] if name.is_empty() || name == found_name => Ok(*id),
        [(_, found_name)] => Err(Fail::Cell(
            column,
            Msg::new("aid.error.id_other_name").arg("name", found_name),
        )),
        [] if id_number.trim().is_empty() => Err(Fail::Cell(
            column,
            Msg::new("aid.error.no_member").arg("name", name),
        )),
        [] => Err(Fail::Cell("id_number", Msg::new("aid.error.no_member_id"))),
        _ => Err(Fail::Cell(
            column,
            Msg::new("aid.error.member_ambiguous").arg("name", name),
        )),
    }
}

/// The programme a loan row names among those that apply to `a`; a blank cell is the one
/// programme that applies, when there is only one.
async fn programme_for(
    conn: &mut AnyConnection,
    a: &Association,
    cell: &str,
) -> std::result::Result<i64, Fail> {
    let applying: Vec<(i64, String)> = sqlx::query(
        "SELECT id, name, org_path FROM aid_programmes WHERE org_path <= $1 ORDER BY org_path, id",
    )
    .bind(&a.org_path)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get::<String, _>(2)?)))
    .collect::<Result<Vec<_>>>()?
    .into_iter()
    .filter(|(_, _, path)| a.org_path.starts_with(path.as_str()))
    .map(|(id, name, _)| (id, name))
    .collect();
    let cell = cell.trim();
    let picked: Vec<&(i64, String)> = applying
        .iter()
        .filter(|(_, name)| cell.is_empty() || name == cell)
        .collect();
    match picked.as_slice() {
        [(id, _)] => Ok(*id),
        _ => Err(Fail::Cell(
            "programme",
            Msg::new("aid.error.programme_pick").arg(
                "candidates",
                applying
                    .iter()
                    .map(|(_, n)| n.as_str())
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
        )),
    }
}
