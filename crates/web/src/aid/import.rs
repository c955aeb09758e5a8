//! The associations' ledgers from an officials' own `.xlsx` through the shared importer
//! (台账导入): associations, members, grant and loan applications, and repayments (还款批量登记).
//! Title lines and their header words are taken; places, associations, members and loans are
//! named as officials name them. Every bad cell is reported by row and column in both
//! languages; nothing is written from a file with a bad row, or exactly the good rows when
//! asked.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{FromRequestParts, Multipart, OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use baiqian_domain::capability::Capability;
use baiqian_domain::org::Level;
use baiqian_store::aid::{AidLedgerRow, AidRecord, NewAidMember, RepaymentRow};
use baiqian_store::import::{ImportMode, ImportOutcome};
use baiqian_store::kernel::Node;

use super::today;
use crate::auth::{Auth, CurrentUser};
use crate::error::{AppError, html};
use crate::excel::{self, Column};
use crate::extract::CodeParam;
use crate::form::{ReportRow, report_rows_with};
use crate::frame::{Frame, here};
use crate::i18n::Tr;
use crate::state::AppState;

const PLACE: Column = Column {
    field: "org",
    header: "所在地",
    synonyms: &[
        "所在村",
        "村",
        "村（社区）",
        "乡镇",
        "乡镇（街道）",
        "所在组织",
        "党组织",
        "组织",
    ],
    required: false,
};

const ASSOCIATION: Column = Column {
    field: "association",
    header: "互助会",
    synonyms: &["互助会名称", "所属互助会"],
    required: true,
};

const ID_NUMBER: Column = Column {
    field: "id_number",
    header: "身份证号",
    synonyms: &["身份证号码", "公民身份号码", "身份证"],
    required: false,
};

/// The columns an associations sheet is read by.
pub const ASSOCIATION_COLUMNS: [Column; 4] = [
    Column {
        required: true,
        ..PLACE
    },
    ASSOCIATION,
    Column {
        field: "trade",
        header: "行业",
        synonyms: &["产业", "行业类别", "类别"],
        required: true,
    },
    Column {
        field: "founded_on",
        header: "成立日期",
        synonyms: &["成立时间", "日期"],
        required: true,
    },
];

/// The columns a members sheet is read by (the members export's own headers among them).
pub const MEMBER_COLUMNS: [Column; 12] = [
    PLACE,
    ASSOCIATION,
    Column {
        field: "name",
        header: "姓名",
        synonyms: &["会员姓名", "会员"],
        required: true,
    },
    Column {
        field: "party_member",
        header: "党员",
        synonyms: &["是否党员", "政治面貌"],
        required: false,
    },
    ID_NUMBER,
    Column {
        field: "phone",
        header: "手机号",
        synonyms: &["手机号码", "联系电话", "电话", "手机"],
        required: false,
    },
    Column {
        field: "in_difficulty",
        header: "困难户",
        synonyms: &["是否困难户", "困难家庭"],
        required: false,
    },
    Column {
        field: "helped_on",
        header: "脱贫日期",
        synonyms: &["脱贫时间"],
        required: false,
    },
    Column {
        field: "mentor",
        header: "结对党员",
        synonyms: &["帮扶党员", "结对帮扶党员"],
        required: false,
    },
    Column {
        field: "households_led",
        header: "带动农户",
        synonyms: &["带动农户数", "带动户数"],
        required: false,
    },
    Column {
        field: "joined_on",
        header: "入会日期",
        synonyms: &["入会时间", "加入日期"],
        required: true,
    },
    Column {
        field: "change_note",
        header: "变化情况",
        synonyms: &["帮扶成效", "变化", "备注"],
        required: false,
    },
];

/// The columns a grant applications sheet is read by.
pub const GRANT_COLUMNS: [Column; 6] = [
    PLACE,
    ASSOCIATION,
    Column {
        field: "beneficiary",
        header: "受助人",
        synonyms: &["姓名", "帮扶对象", "受助会员"],
        required: true,
    },
    ID_NUMBER,
    Column {
        field: "purpose",
        header: "用途",
        synonyms: &["资金用途", "帮扶内容"],
        required: true,
    },
    Column {
        field: "amount",
        header: "金额（元）",
        synonyms: &["金额", "金额(元)", "帮扶金额", "帮扶资金"],
        required: true,
    },
];

/// The columns a loan applications sheet is read by.
pub const LOAN_COLUMNS: [Column; 7] = [
    PLACE,
    ASSOCIATION,
    Column {
        field: "borrower",
        header: "借款人",
        synonyms: &["姓名", "借款人姓名"],
        required: true,
    },
    ID_NUMBER,
    Column {
        field: "programme",
        header: "信贷项目",
        synonyms: &["贷款项目", "项目"],
        required: false,
    },
    Column {
        field: "principal",
        header: "本金（元）",
        synonyms: &[
            "本金",
            "本金(元)",
            "贷款金额",
            "贷款金额（元）",
            "申请金额",
            "金额",
        ],
        required: true,
    },
    Column {
        field: "purpose",
        header: "用途",
        synonyms: &["贷款用途", "资金用途"],
        required: true,
    },
];

/// The columns a repayments sheet is read by.
pub const REPAYMENT_COLUMNS: [Column; 4] = [
    Column {
        field: "loan",
        header: "贷款编号",
        synonyms: &["贷款号", "借据号", "编号", "合同编号"],
        required: true,
    },
    Column {
        field: "borrower",
        header: "借款人",
        synonyms: &["姓名", "借款人姓名", "户名"],
        required: false,
    },
    Column {
        field: "on",
        header: "还款日期",
        synonyms: &["日期", "还款时间", "入账日期"],
        required: true,
    },
    Column {
        field: "amount",
        header: "还款金额",
        synonyms: &["金额", "还款金额（元）", "还款金额(元)", "本息合计"],
        required: true,
    },
];

/// Which ledger a sheet enters (the route's `{ledger}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ledger {
    Associations,
    Members,
    Grants,
    Loans,
    Repayments,
}

impl Ledger {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "associations" => Some(Ledger::Associations),
            "members" => Some(Ledger::Members),
            "grants" => Some(Ledger::Grants),
            "loans" => Some(Ledger::Loans),
            "repayments" => Some(Ledger::Repayments),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Ledger::Associations => "associations",
            Ledger::Members => "members",
            Ledger::Grants => "grants",
            Ledger::Loans => "loans",
            Ledger::Repayments => "repayments",
        }
    }

    fn columns(self) -> &'static [Column] {
        match self {
            Ledger::Associations => &ASSOCIATION_COLUMNS,
            Ledger::Members => &MEMBER_COLUMNS,
            Ledger::Grants => &GRANT_COLUMNS,
            Ledger::Loans => &LOAN_COLUMNS,
            Ledger::Repayments => &REPAYMENT_COLUMNS,
        }
    }

    fn title_key(self) -> &'static str {
        match self {
            Ledger::Associations => "aid.import.associations",
            Ledger::Members => "aid.import.members",
            Ledger::Grants => "aid.import.grants",
            Ledger::Loans => "aid.import.loans",
            Ledger::Repayments => "aid.import_repayments",
        }
    }

    fn hint_key(self) -> &'static str {
        match self {
            Ledger::Associations => "aid.import.associations_hint",
            Ledger::Members => "aid.import.members_hint",
            Ledger::Grants => "aid.import.grants_hint",
            Ledger::Loans => "aid.import.loans_hint",
            Ledger::Repayments => "aid.import_hint",
        }
    }

    /// The header a field is reported under.
    fn header(self, field: &str) -> &'static str {
        self.columns()
            .iter()
            .find(|c| c.field == field)
            .map(|c| c.header)
            .unwrap_or("")
    }
}

/// The route's `{ledger}`; an unknown one answers 404.
pub(super) struct LedgerParam(Ledger);

impl<S: Send + Sync> FromRequestParts<S> for LedgerParam {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::NotFound)?;
        params
            .get("ledger")
            .and_then(|s| Ledger::parse(s))
            .map(LedgerParam)
            .ok_or(AppError::NotFound)
    }
}

#[derive(Template)]
#[template(path = "aid/import.html")]
struct ImportPage {
    tr: Tr,
    f: Frame,
    org: Node,
    ledger: &'static str,
    title_key: &'static str,
    hint_key: &'static str,
    headers: Vec<&'static str>,
    done: bool,
    committed: bool,
    created: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

async fn blank(
    state: &AppState,
    me: &CurrentUser,
    tr: Tr,
    uri: &OriginalUri,
    code: &baiqian_domain::org::OrgCode,
    ledger: Ledger,
) -> Result<ImportPage, AppError> {
    let org = state.db.org(me.scope(), code).await?;
    if !matches!(
        org.level,
        Level::City | Level::County | Level::Township | Level::Village
    ) {
        return Err(AppError::NotFound);
    }
    Ok(ImportPage {
        tr,
        f: Frame::new(state, me, tr, &here(uri), "aid").await?,
        org,
        ledger: ledger.as_str(),
        title_key: ledger.title_key(),
        hint_key: ledger.hint_key(),
        headers: ledger.columns().iter().map(|c| c.header).collect(),
        done: false,
        committed: false,
        created: 0,
        file_error: None,
        report: Vec::new(),
    })
}

/// `GET /orgs/{code}/aid/{ledger}/import`.
pub(super) async fn page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    LedgerParam(ledger): LedgerParam,
) -> Result<Response, AppError> {
    html(&blank(&state, &me, tr, &uri, &code, ledger).await?)
}

/// `POST /orgs/{code}/aid/{ledger}/import`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    LedgerParam(ledger): LedgerParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let mut page = blank(&state, &me, tr, &uri, &code, ledger).await?;
    page.done = true;
    let header = |field: &str| ledger.header(field);
    let mut ok = false;
    match excel::sheet_rows(&mut multipart, ledger.columns()).await? {
        excel::SheetRows::Unreadable(e) => page.file_error = Some(e),
        excel::SheetRows::Headers(errors) => page.report = report_rows_with(&errors, header),
        excel::SheetRows::Rows { mode, rows } => {
            let out = enter(&state, &me, &page.org, ledger, rows, mode).await?;
            ok = out.errors.is_empty();
            page.committed = out.committed;
            page.created = out.created;
            page.report = report_rows_with(&out.errors, header);
        }
    }
    let mut res = html(&page)?;
    if !ok {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// Hands the rows of a sheet, read by `ledger`'s columns in order, to the store.
async fn enter(
    state: &AppState,
    me: &CurrentUser,
    org: &Node,
    ledger: Ledger,
    rows: Vec<(usize, Vec<String>)>,
    mode: ImportMode,
) -> Result<ImportOutcome, AppError> {
    let today = today(state);
    let now = state.clock.now_ms();
    if ledger == Ledger::Repayments {
        let rows: Vec<RepaymentRow> = rows
            .into_iter()
            .map(|(row, c)| RepaymentRow {
                row,
                loan: c[0].clone(),
                borrower: c[1].clone(),
                on: c[2].clone(),
                amount: c[3].clone(),
            })
            .collect();
        return Ok(state
            .db
            .import_repayment_rows(&me.actor, org, &rows, mode, &today, now)
            .await?);
    }
    let rows: Vec<AidLedgerRow> = rows
        .into_iter()
        .map(|(row, c)| {
            let record = match ledger {
                Ledger::Associations => AidRecord::Association {
                    trade: c[2].clone(),
                    founded_on: c[3].clone(),
                },
                Ledger::Members => AidRecord::Member {
                    member: NewAidMember {
                        name: c[2].clone(),
                        id_number: c[4].clone(),
                        phone: c[5].clone(),
                        helped_on: c[7].clone(),
                        mentor: c[8].clone(),
                        households_led: c[9].clone(),
                        joined_on: c[10].clone(),
                        change_note: c[11].clone(),
                        ..NewAidMember::default()
                    },
                    party_member: c[3].clone(),
                    in_difficulty: c[6].clone(),
                },
                Ledger::Grants => AidRecord::Grant {
                    beneficiary: c[2].clone(),
                    id_number: c[3].clone(),
                    purpose: c[4].clone(),
                    amount: c[5].clone(),
                },
                Ledger::Loans | Ledger::Repayments => AidRecord::Loan {
                    borrower: c[2].clone(),
                    id_number: c[3].clone(),
                    programme: c[4].clone(),
                    principal: c[5].clone(),
                    purpose: c[6].clone(),
                },
            };
            AidLedgerRow {
                row,
                org: c[0].clone(),
                association: c[1].clone(),
                record,
            }
        })
        .collect();
    Ok(state
        .db
        .import_aid_ledger(&me.actor, &state.vault, org, &rows, mode, &today, now)
        .await?)
}
