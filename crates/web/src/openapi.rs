//! The OpenAPI description of the JSON API under `/api/v1/` (for card readers, phones and other
//! systems: bearer tokens or the session, the same scopes as the pages). Like `app`, it sits
//! above the areas and names their endpoints.

use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "baiqian API", description = "百村示范、千村晋位: the organization tree, scoped to the caller"),
    paths(crate::user::me::me, crate::org::api::get_org, crate::org::api::children, crate::org::api::create_child, crate::org::api::search, crate::audit::api::audit, crate::member::api_create, crate::member::api_get, crate::member::api_roster, crate::checkin::device_checkin, crate::checkin::device_batch, crate::checkin::api_qr_checkin, crate::checkin::api_create_event, crate::checkin::api_attendance, crate::checkin::api_qr, crate::rating::api_ratings),
    components(schemas(crate::user::me::MeView, crate::user::me::MeMember, crate::user::me::MeOrg, crate::checkin::CardCheckin, crate::checkin::CheckinResult, crate::checkin::CardBatch, crate::checkin::BatchResult, crate::checkin::NewEventBody, crate::checkin::EventCreated, crate::checkin::AttendanceView, crate::checkin::QrView, crate::checkin::QrCheckin, crate::rating::RatingsSummary, crate::member::MemberView, crate::member::MemberItems, crate::member::Created, crate::member::MemberInputDoc, crate::org::api::OrgView, crate::org::api::Counts, crate::org::api::PartyOrgView, crate::org::api::OrgItem, crate::org::api::Items, crate::org::api::NewChild, crate::audit::api::AuditItem, crate::audit::api::AuditItems, crate::error::ErrorBody, crate::error::ErrorDetail)),
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
