//! What every page's frame shows: the reader's scope as a breadcrumb, the navigation their role
//! allows, the language switch, the CSRF token for forms.

use baiqian_domain::capability::Capability;
use baiqian_domain::role::Role;
use baiqian_domain::scope::Scope;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::state::AppState;

/// What an area shows on a node's meeting-room screen (数据大屏, assembled by `home::screen`),
/// as rendered HTML: its figures (`<li>`s in the one row of figures), its bands (whole rows, such
/// as the round's stages) and its panels (charts and boxes in the grid below).
#[derive(Debug, Clone, Default)]
pub struct ScreenPart {
    pub figures: String,
    pub bands: String,
    pub panels: String,
}

#[derive(Debug, Clone)]
pub struct Frame {
    pub tr: Tr,
    pub user_name: String,
    pub login: String,
    pub role: String,
    /// The reader's role, for what the page offers (`may`).
    pub role_id: Role,
    /// Names from the city down to the user's own node.
    pub scope_crumbs: Vec<String>,
    pub home_code: String,
    pub csrf: String,
    /// The current path and query, for the language switch to come back to.
    pub here: String,
    pub nav_accounts: bool,
    pub nav_audit: bool,
    /// Which navigation entry is the current page's.
    pub section: &'static str,
}

impl Frame {
    pub async fn new(
        state: &AppState,
        me: &CurrentUser,
        tr: Tr,
        here: &str,
        section: &'static str,
    ) -> Result<Self, AppError> {
        let own = state
            .db
            .org(
                &Scope::everything(),
                &me.actor.scope.root.clone().ok_or(AppError::NotFound)?,
            )
            .await?;
        let mut scope_crumbs: Vec<String> = state
            .db
            .org_ancestors(&Scope::everything(), &own)
            .await?
            .into_iter()
            .map(|(_, name)| name)
            .collect();
        scope_crumbs.push(own.name.clone());
        let here = form_urlencoded::byte_serialize(here.as_bytes()).collect();
        Ok(Self {
            tr,
            user_name: me.user.name.clone(),
            login: me.user.login.clone(),
            role: tr.role(me.role().as_str()),
            role_id: me.role(),
            scope_crumbs,
            home_code: me.user.org_code.clone(),
            csrf: me.csrf.clone().unwrap_or_default(),
            here,
            nav_accounts: me.role().may_manage_accounts(),
            nav_audit: me.role().may_read_audit(),
            section,
        })
    }

    /// Whether the reader's role holds `cap`: pages offer only what the routes allow.
    pub fn may(&self, cap: Capability) -> bool {
        self.role_id.may(cap)
    }

    pub fn other_lang(&self) -> &'static str {
        self.tr.lang.other().code()
    }
}

/// The path and query of the page being answered, for the language switch to come back to.
pub fn here(uri: &axum::extract::OriginalUri) -> String {
    uri.0
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into())
}

/// The frame of a page read without an account (`templates/public/base.html`): the language
/// switch and a way to sign in.
pub struct PublicFrame {
    /// The current path and query, for the language switch to come back to.
    pub here: String,
}

impl PublicFrame {
    pub fn new(uri: &axum::extract::OriginalUri) -> Self {
        Self {
            here: form_urlencoded::byte_serialize(here(uri).as_bytes()).collect(),
        }
    }
}
