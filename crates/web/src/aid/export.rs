//! The associations' ledgers as officials keep them in Excel: the associations, their members
//! (ID numbers and phones masked, as on the pages) and the loans (numbered as the repayments
//! sheet reads them back), each under a node, with the title line every export carries.

use axum::extract::{Query, State};
use axum::response::Response;
use baiqian_store::aid::LoanFilter;
use serde::Deserialize;

use crate::auth::Auth;
use crate::error::AppError;
use crate::excel::{Cell, export_title, write_list, xlsx_response};
use crate::extract::CodeParam;
use crate::i18n::{Lang, Tr};
use crate::state::AppState;

/// The most rows one export carries (a province's members are 400,000: exported per county).
const MAX_ROWS: i64 = 200_000;

fn yes(b: bool) -> Cell {
    Cell::Text(if b { "是" } else { "否" }.into())
}

fn money(fen: i64) -> Cell {
    Cell::Text(baiqian_domain::money::Fen(fen).yuan_text())
}

/// `GET /orgs/{code}/aid/associations.xlsx`.
pub(super) async fn associations(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let (list, _) = state.db.associations_under(&org, 0, MAX_ROWS).await?;
    let rows: Vec<Vec<Cell>> = list
        .into_iter()
        .map(|a| {
            vec![
                Cell::Text(a.name),
                Cell::Text(a.org_name),
                Cell::Text(a.trade),
                Cell::Date(a.founded_on),
                Cell::Number(a.members),
                Cell::Number(a.helped),
            ]
        })
        .collect();
    let columns = [
        ("name", "互助会"),
        ("place", "所在地"),
        ("trade", "行业"),
        ("founded_on", "成立日期"),
        ("members", "会员数"),
        ("helped", "帮扶脱贫"),
    ];
    let title = export_title(
        tr,
        "aid.export.associations",
        &org.name,
        &me,
        state.clock.now_ms(),
    );
    let bytes = write_list("互助会", &title, &columns, &rows)?;
    xlsx_response(bytes, &format!("associations-{code}.xlsx"))
}

/// `GET /orgs/{code}/aid/members.xlsx`.
pub(super) async fn members(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let (list, _) = state.db.aid_members_under(&org, false, 0, MAX_ROWS).await?;
    let rows: Vec<Vec<Cell>> = list
        .into_iter()
        .map(|m| {
            vec![
                Cell::Text(m.name),
                Cell::Text(m.association_name),
                yes(m.party_member),
                Cell::Text(m.id_masked.unwrap_or_default()),
                Cell::Text(m.phone_masked.unwrap_or_default()),
                yes(m.in_difficulty),
                m.helped_on.map_or(Cell::Text(String::new()), Cell::Date),
                Cell::Text(m.mentor_name.unwrap_or_default()),
                Cell::Number(m.households_led),
                Cell::Date(m.joined_on),
                Cell::Text(m.change_note),
            ]
        })
        .collect();
    let columns = [
        ("name", "姓名"),
        ("association", "互助会"),
        ("party_member", "党员"),
        ("id_number", "身份证号"),
        ("phone", "手机号"),
        ("in_difficulty", "困难户"),
        ("helped_on", "脱贫日期"),
        ("mentor", "结对党员"),
        ("households_led", "带动农户"),
        ("joined_on", "入会日期"),
        ("change_note", "变化情况"),
    ];
    let title = export_title(
        tr,
        "aid.export.members",
        &org.name,
        &me,
        state.clock.now_ms(),
    );
    let bytes = write_list("会员", &title, &columns, &rows)?;
    xlsx_response(bytes, &format!("aid-members-{code}.xlsx"))
}

/// `GET /orgs/{code}/aid/grants.xlsx`: the grants with their steps, under the headers the
/// grant applications import reads.
pub(super) async fn grants(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let list = state.db.grants_under(&org, MAX_ROWS).await?;
    let zh = Tr::new(Lang::Zh);
    let rows: Vec<Vec<Cell>> = list
        .into_iter()
        .map(|g| {
            vec![
                Cell::Text(format!("#{}", g.id)),
                Cell::Text(g.org_name),
                Cell::Text(g.association_name),
                Cell::Text(g.beneficiary_name),
                Cell::Text(g.purpose),
                money(g.amount.0),
                Cell::Text(zh.word("aid.grant_stage", g.stage.as_str())),
                Cell::Text(g.applied_by),
                Cell::Text(g.approved_by.unwrap_or_default()),
                Cell::Text(g.paid_by.unwrap_or_default()),
                g.paid_on.map_or(Cell::Text(String::new()), Cell::Date),
                Cell::Text(g.outcome.unwrap_or_default()),
                Cell::Text(g.refused_reason.unwrap_or_default()),
            ]
        })
        .collect();
    let columns = [
        ("grant", "编号"),
        ("org", "所在地"),
        ("association", "互助会"),
        ("beneficiary", "受助人"),
        ("purpose", "用途"),
        ("amount", "金额（元）"),
        ("stage", "状态"),
        ("applied_by", "申请人"),
        ("approved_by", "审批人"),
        ("paid_by", "发放人"),
        ("paid_on", "发放日期"),
        ("outcome", "成效"),
        ("refused_reason", "不予批准理由"),
    ];
    let title = export_title(
        tr,
        "aid.export.grants",
        &org.name,
        &me,
        state.clock.now_ms(),
    );
    let bytes = write_list("帮扶资金", &title, &columns, &rows)?;
    xlsx_response(bytes, &format!("grants-{code}.xlsx"))
}

#[derive(Deserialize, Default)]
pub(super) struct LoansQuery {
    #[serde(default)]
    list: String,
}

/// `GET /orgs/{code}/aid/loans.xlsx?list=…`: the loans of a board's list (those lent by default).
pub(super) async fn loans(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    Query(q): Query<LoansQuery>,
) -> Result<Response, AppError> {
    let org = state.db.org(me.scope(), &code).await?;
    let filter = match q.list.as_str() {
        "" => LoanFilter::Lent,
        s => LoanFilter::parse(s).ok_or(AppError::NotFound)?,
    };
    let (list, _) = state.db.loans_under(&org, filter, 0, MAX_ROWS).await?;
    let zh = Tr::new(Lang::Zh);
    let rows: Vec<Vec<Cell>> = list
        .into_iter()
        .map(|l| {
            let stage = super::stage_word(zh, &l);
            vec![
                Cell::Text(format!("#{}", l.id)),
                Cell::Text(l.borrower_name.clone()),
                Cell::Text(l.association_name.clone()),
                Cell::Text(l.programme_name.clone()),
                money(l.principal.0),
                Cell::Text(super::rate_text(l.annual_rate_bp)),
                Cell::Number(l.months),
                Cell::Text(zh.word("aid.method", l.method.as_str())),
                l.disbursed_on
                    .clone()
                    .map_or(Cell::Text(String::new()), Cell::Date),
                money(l.paid.0),
                money(l.outstanding().0),
                money(l.principal_outstanding().0),
                Cell::Text(stage),
                l.overdue_since
                    .clone()
                    .map_or(Cell::Text(String::new()), Cell::Date),
            ]
        })
        .collect();
    let columns = [
        ("loan", "贷款编号"),
        ("borrower", "借款人"),
        ("association", "互助会"),
        ("programme", "信贷项目"),
        ("principal", "本金（元）"),
        ("rate", "年利率（%）"),
        ("months", "期限（月）"),
        ("method", "还款方式"),
        ("disbursed_on", "放款日期"),
        ("paid", "已还本息（元）"),
        ("owed", "尚欠本息（元）"),
        ("outstanding", "贷款余额（元）"),
        ("stage", "状态"),
        ("overdue_since", "逾期起始"),
    ];
    let title = export_title(tr, "aid.export.loans", &org.name, &me, state.clock.now_ms());
    let bytes = write_list("贷款", &title, &columns, &rows)?;
    xlsx_response(bytes, &format!("loans-{code}.xlsx"))
}
