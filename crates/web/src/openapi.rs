//! The OpenAPI description of the JSON API under `/api/v1/` (for card readers, phones and other
//! systems: bearer tokens or the session, the same scopes as the pages). Like `app`, it sits
//! above the areas and names their endpoints.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "baiqian API", description = "百村示范、千村晋位: the organization tree, scoped to the caller"),
    paths(crate::user::me::me, crate::home::api_tasks, crate::org::api::get_org, crate::org::api::children, crate::org::api::create_child, crate::org::api::search, crate::audit::api::audit, crate::member::api::api_create, crate::member::api::api_get, crate::member::record::api_edit, crate::member::record::api_status, crate::member::api::api_roster, crate::member::api::api_import, crate::member::api::api_import_job, crate::member::api::api_export_job, crate::job::api_job, crate::checkin::api::device_checkin, crate::checkin::api::device_batch, crate::checkin::api::api_qr_checkin, crate::checkin::api::api_create_event, crate::checkin::api::api_attendance, crate::checkin::api::api_qr, crate::rating::api::api_ratings, crate::rating::public::api_public_ratings, crate::ledger::api::api_summary, crate::ledger::api::api_list, crate::ledger::rest::api_create_problem, crate::ledger::rest::api_problem, crate::ledger::rest::api_step, crate::ledger::rest::api_check, crate::ledger::rest::api_plan, crate::ledger::rest::api_visits, crate::ledger::rest::api_log_visit, crate::ledger::rest::api_surveys, crate::ledger::rest::api_leaders, crate::ledger::visits::api_pledges, crate::plan::api::api_targets, crate::cadre::api::api_summary, crate::aid::api_summary, crate::wish::api_summary, crate::station::api_stations, crate::station::public::api_services, crate::station::public::api_request, crate::station::public::api_follow, crate::post::api_posts),
    components(schemas(crate::user::me::MeView, crate::user::me::MeMember, crate::user::me::MeOrg, crate::checkin::api::CardCheckin, crate::checkin::api::CheckinResult, crate::checkin::api::CardBatch, crate::checkin::api::BatchResult, crate::checkin::api::NewEventBody, crate::checkin::api::EventCreated, crate::checkin::api::AttendanceView, crate::checkin::api::QrView, crate::checkin::api::QrCheckin, crate::rating::api::RatingsSummary, crate::ledger::api::ProblemSummary, crate::ledger::api::ProblemItem, crate::ledger::api::ProblemItems, crate::ledger::rest::CreatedId, crate::ledger::rest::NewProblemDoc, crate::ledger::rest::ProblemStepView, crate::ledger::rest::ProblemView, crate::ledger::rest::StepDoc, crate::ledger::rest::PlanDoc, crate::ledger::rest::PlanResult, crate::ledger::rest::VisitItem, crate::ledger::rest::VisitItems, crate::ledger::rest::NewVisitBody, crate::ledger::rest::SurveyItem, crate::ledger::rest::SurveyItems, crate::ledger::rest::LeaderItem, crate::ledger::rest::LeaderItems, crate::ledger::visits::PledgeView, crate::ledger::visits::PledgeItems, crate::plan::api::TargetItem, crate::plan::api::TargetItems, crate::cadre::api::CadreSummaryView, crate::aid::AidSummaryView, crate::wish::WishSummaryBody, crate::station::StationItem, crate::station::StationItems, crate::station::public::PublicServiceItem, crate::station::public::PublicServiceItems, crate::station::public::PublicRequestBody, crate::station::public::RequestTaken, crate::station::public::PublicRequestView, crate::post::PostItem, crate::post::PostItems, crate::member::api::MemberView, crate::member::api::MemberItems, crate::member::api::Created, crate::member::api::MemberInputDoc, crate::member::record::MemberEditBody, crate::member::record::StatusBody, crate::member::api::ImportResultView, crate::member::api::ImportErrorView, crate::member::api::JobStarted, crate::job::JobView, crate::job::JobErrorView, crate::org::api::OrgView, crate::org::api::Counts, crate::org::api::PartyOrgView, crate::org::api::OrgItem, crate::org::api::Items, crate::org::api::NewChild, crate::audit::api::AuditItem, crate::audit::api::AuditItems, crate::error::ErrorBody, crate::error::ErrorDetail)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

pub(crate) async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
