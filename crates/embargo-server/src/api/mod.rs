//! The HTTP JSON API. Routes are registered with their OpenAPI description, so the
//! document the server serves is generated from the same list that routes requests.

pub mod admin;
pub mod cases;
pub mod correspondence;
pub mod cve;
pub mod disclosure;
pub mod fixes;
pub mod intake;
pub mod public;
pub mod review;
pub mod roles;
pub mod session;
pub mod site;
pub mod triage;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Embargo", description = "A security response desk: from private report to coordinated announcement."),
    modifiers(&Security),
    tags(
        (name = "cases", description = "Reports and embargoed cases"),
        (name = "session", description = "Sign-in and API tokens"),
        (name = "admin", description = "Organisations, projects and teams"),
        (name = "public", description = "What anyone may read"),
        (name = "roles", description = "Collaborators, distributors and the reporter's link"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::extract::SESSION_COOKIE,
            ))),
        );
    }
}

/// Every route of the server with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(public::healthz))
        .routes(routes!(public::readyz))
        .routes(routes!(public::case))
        .routes(routes!(public::openpgp_key))
        .routes(routes!(site::index))
        .routes(routes!(site::page))
        .routes(routes!(site::osv))
        .routes(routes!(site::csaf))
        .routes(routes!(site::csaf_canonical))
        .routes(routes!(site::cve))
        .routes(routes!(site::feed))
        .routes(routes!(site::security_txt))
        .routes(routes!(site::project_index))
        .routes(routes!(site::well_known_security_txt))
        .routes(routes!(site::acknowledge_page, site::acknowledge))
        .routes(routes!(disclosure::prenotifications))
        .routes(routes!(disclosure::preview))
        .routes(routes!(disclosure::rehearse))
        .routes(routes!(disclosure::schedule, disclosure::cancel))
        .routes(routes!(disclosure::cve_record))
        .routes(routes!(disclosure::document))
        .routes(routes!(triage::views, triage::give))
        .routes(routes!(triage::request))
        .routes(routes!(fixes::board, fixes::record))
        .routes(routes!(fixes::patch))
        .routes(routes!(fixes::testing))
        .routes(routes!(fixes::file))
        .routes(routes!(disclosure::case_changes))
        .routes(routes!(disclosure::project_changes))
        .routes(routes!(review::project))
        .routes(routes!(review::organisation))
        .routes(routes!(cve::reserve))
        .routes(routes!(cve::publish))
        .routes(routes!(cve::reject))
        .routes(routes!(session::sign_in, session::sign_out))
        .routes(routes!(session::me))
        .routes(routes!(session::start_totp))
        .routes(routes!(session::confirm_totp))
        .routes(routes!(session::change_password))
        .routes(routes!(session::create_token))
        .routes(routes!(session::revoke_token))
        .routes(routes!(admin::create_user))
        .routes(routes!(admin::list_orgs, admin::create_org))
        .routes(routes!(admin::add_foundation_member))
        .routes(routes!(admin::list_projects, admin::create_project))
        .routes(routes!(admin::show_project, admin::update_project))
        .routes(routes!(admin::committee, admin::add_committee))
        .routes(routes!(admin::members, admin::add_member))
        .routes(routes!(admin::invite_member))
        .routes(routes!(admin::cve_delegation))
        .routes(routes!(admin::remove_member))
        .routes(routes!(admin::deny_list))
        .routes(routes!(cases::list, cases::create))
        .routes(routes!(cases::show, cases::update))
        .routes(routes!(cases::transition))
        .routes(routes!(cases::route))
        .routes(routes!(cases::timeline))
        .routes(routes!(cases::add_note))
        .routes(routes!(cases::checklist))
        .routes(routes!(cases::mark))
        .routes(routes!(cases::attachments))
        .routes(routes!(correspondence::reply))
        .routes(routes!(correspondence::responses))
        .routes(routes!(correspondence::set_response))
        .routes(routes!(correspondence::file_report))
        .routes(routes!(correspondence::quarantine))
        .routes(routes!(correspondence::release))
        .routes(routes!(intake::log))
        .routes(routes!(intake::accept_sender))
        .routes(routes!(intake::quarantine_message))
        .routes(routes!(correspondence::import))
        .routes(routes!(correspondence::duplicates))
        .routes(routes!(cases::attachment))
        .routes(routes!(roles::collaborators, roles::invite))
        .routes(routes!(roles::revoke))
        .routes(routes!(roles::terms))
        .routes(routes!(roles::accept))
        .routes(routes!(roles::accept_signed_in))
        .routes(routes!(session::set_openpgp_key))
        .routes(routes!(roles::add_distributor))
        .routes(routes!(roles::remove_distributor))
        .routes(routes!(roles::regrant_distributor))
        .routes(routes!(roles::prenotify))
        .routes(routes!(roles::advisory))
        .routes(routes!(roles::prenotified))
        .routes(routes!(roles::reporter_link))
        .routes(routes!(roles::reporter_view))
        .routes(routes!(roles::reporter_reply))
        .routes(routes!(roles::reporter_embargo))
        .routes(routes!(roles::reporter_credit))
        .routes(routes!(roles::reporter_identity))
}
