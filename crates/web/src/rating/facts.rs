//! The village facts a rating reads: their page, their sheet, their import.

use super::*;

/// The facts sheet's columns.
pub const FACTS_COLUMNS: [(&str, &str); 7] = [
    ("code", "代码"),
    ("name", "村名"),
    ("income", "村级集体经济年经常性收入(元)"),
    ("beautiful_level", "美丽乡村创建级别"),
    ("beautiful_year", "美丽乡村创建年度"),
    ("practice", "党建特色工作"),
    ("practice_level", "推广层级"),
];

pub(super) fn facts_header(field: &str) -> &'static str {
    FACTS_COLUMNS
        .iter()
        .find(|(f, _)| *f == field)
        .map(|(_, h)| *h)
        .unwrap_or("")
}

#[derive(Template)]
#[template(path = "rating/facts.html")]
pub(super) struct FactsPage {
    tr: Tr,
    f: Frame,
    org: Node,
    year: i64,
    rows: Vec<VillageFacts>,
    can_import: bool,
    done: bool,
    committed: bool,
    updated: usize,
    file_error: Option<String>,
    report: Vec<ReportRow>,
}

impl FactsPage {
    fn yuan(&self, fen: &Option<baiqian_domain::money::Fen>) -> String {
        fen.map(|f| format!("¥{}", f.yuan_text()))
            .unwrap_or_else(|| "—".into())
    }
    fn level(&self, l: &PromotionLevel) -> String {
        self.tr
            .t(&format!("rating.level.{}", l.as_str()))
            .to_string()
    }
}

#[derive(Deserialize)]
pub(super) struct FormatQuery {
    #[serde(default)]
    format: String,
}

pub(super) fn facts_sheet(rows: &[VillageFacts]) -> Result<Vec<u8>, AppError> {
    let mut out = Vec::new();
    for v in rows {
        let base = |practice: Option<&baiqian_store::rating::FeaturedPractice>| {
            vec![
                Cell::Text(v.org_code.clone()),
                Cell::Text(v.org_name.clone()),
                Cell::Text(
                    v.income_fen
                        .map(baiqian_domain::money::Fen::yuan_text)
                        .unwrap_or_default(),
                ),
                Cell::Text(
                    v.beautiful
                        .map(|(l, _)| l.zh().to_string())
                        .unwrap_or_default(),
                ),
                Cell::Text(v.beautiful.map(|(_, y)| y.to_string()).unwrap_or_default()),
                Cell::Text(practice.map(|p| p.title.clone()).unwrap_or_default()),
                Cell::Text(
                    practice
                        .map(|p| p.level.zh().to_string())
                        .unwrap_or_default(),
                ),
            ]
        };
        if v.practices.is_empty() {
            out.push(base(None));
        } else {
            for p in &v.practices {
                out.push(base(Some(p)));
            }
        }
    }
    excel::write_sheet("先锋示范村数据", &FACTS_COLUMNS, &out)
}

pub(super) async fn facts_page(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    Query(q): Query<FormatQuery>,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    let rows = state.db.village_facts(&org, year).await?;
    if q.format == "xlsx" {
        return excel::xlsx_response(
            facts_sheet(&rows)?,
            &format!("village-facts-{}-{year}.xlsx", org.code),
        );
    }
    html(&FactsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "ratings").await?,
        org,
        year,
        rows,
        can_import: me.role().is_admin(),
        done: false,
        committed: false,
        updated: 0,
        file_error: None,
        report: Vec::new(),
    })
}

pub(super) async fn facts_import(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    uri: OriginalUri,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
    mut multipart: Multipart,
) -> Result<Response, AppError> {
    let (org, year) = node_year(&state, &me, &code, year).await?;
    if !me.role().is_admin() {
        return Err(AppError::Denied(Msg::new("error.denied")));
    }
    let crate::excel::Upload { file, mode, .. } =
        excel::read_upload(&mut multipart, crate::state::MAX_UPLOAD_BYTES).await?;
    let file = crate::excel::upload::bytes_of(&file).await?;
    let mut page = FactsPage {
        tr,
        f: Frame::new(&state, &me, tr, &here(&uri), "ratings").await?,
        org,
        year,
        rows: Vec::new(),
        can_import: true,
        done: true,
        committed: false,
        updated: 0,
        file_error: None,
        report: Vec::new(),
    };
    let both = |m: &Msg| {
        format!(
            "{} / {}",
            Tr::new(Lang::Zh).msg(m),
            Tr::new(Lang::En).msg(m)
        )
    };
    let table = if file.is_empty() {
        Err(Msg::new("import.error.no_file"))
    } else {
        excel::read_first_sheet(&file)
    };
    let mut ok = false;
    match table {
        Err(m) => page.file_error = Some(both(&m)),
        Ok(table) => match excel::map_columns(
            &table,
            &FACTS_COLUMNS,
            &[
                "name",
                "practice",
                "practice_level",
                "beautiful_level",
                "beautiful_year",
                "income",
            ],
        ) {
            Err(errors) => page.report = report_rows_with(&errors, facts_header),
            Ok(idx) => {
                let rows: Vec<FactsRow> = excel::data_rows(&table, &idx)
                    .into_iter()
                    .map(|(row, c)| FactsRow {
                        row,
                        code: c[0].clone(),
                        income: c[2].clone(),
                        beautiful_level: c[3].clone(),
                        beautiful_year: c[4].clone(),
                        practice: c[5].clone(),
                        practice_level: c[6].clone(),
                    })
                    .collect();
                let out = state
                    .db
                    .import_village_facts(&me.actor, year, &rows, mode, state.clock.now_ms())
                    .await?;
                ok = out.errors.is_empty();
                page.committed = out.committed;
                page.updated = out.updated;
                page.report = report_rows_with(&out.errors, facts_header);
            }
        },
    }
    page.rows = state.db.village_facts(&page.org, year).await?;
    let mut res = html(&page)?;
    if !ok {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// The village facts' import template: the facts sheet's headers, an example village under this
/// node, drop-downs for the levels, and how to fill each column in.
pub(super) async fn facts_template(
    State(state): State<AppState>,
    Auth(me): Auth,
    tr: Tr,
    CodeParam(code): CodeParam,
    YearParam(year): YearParam,
) -> Result<Response, AppError> {
    use baiqian_domain::rating::PromotionLevel;
    let (org, year) = node_year(&state, &me, &code, year).await?;
    let village = state
        .db
        .org_subtree(me.scope(), &org.code, false)
        .await?
        .into_iter()
        .find(|n| n.level == baiqian_domain::org::Level::Village);
    let levels: Vec<&str> = PromotionLevel::ALL.iter().map(|l| l.zh()).collect();
    let example = [
        village
            .as_ref()
            .map(|v| v.code.to_string())
            .unwrap_or_default(),
        village.as_ref().map(|v| v.name.clone()).unwrap_or_default(),
        "512345.60".to_string(),
        PromotionLevel::City.zh().to_string(),
        (year - 1).to_string(),
        tr.t("template.facts.example_practice").to_string(),
        PromotionLevel::County.zh().to_string(),
    ];
    let columns: Vec<excel::TemplateColumn<'_>> = FACTS_COLUMNS
        .iter()
        .zip(example)
        .map(|((field, header), example)| excel::TemplateColumn {
            header,
            example,
            required: *field == "code",
            forms_key: format!("template.facts.{field}"),
            list: if matches!(*field, "beautiful_level" | "practice_level") {
                levels.clone()
            } else {
                Vec::new()
            },
            also: &[],
        })
        .collect();
    let title = tr.f(
        "template.facts.title",
        &[("node", &org.name), ("year", &year.to_string())],
    );
    let bytes = excel::write_template(tr, "村情数据", &title, &columns)?;
    excel::xlsx_response(bytes, &format!("village-facts-template-{code}-{year}.xlsx"))
}
