//! The authorisation matrix: every route of the router, for every role, on an embargoed
//! case and on a public one. The route list comes from the router itself, so a route
//! without an entry here fails the test; and a case a role may not reach answers exactly
//! like one that does not exist.

use embargo_core::access::Viewer;
use embargo_core::case::{AdvisoryDraft, Channel, Versions};
use embargo_core::lifecycle::{State, TransitionRequest};
use embargo_core::reference::CaseRef;
use embargo_store::{CasePatch, NewReport, Store};
use reqwest::Method;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::support::{Api, Backend, Server, TestDb, seed};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Foundation,
    Team,
    OtherTeam,
    Invited,
    Collaborator,
    Reporter,
    OtherReporter,
    Distributor,
    OtherDistributor,
    Admin,
    Anonymous,
}

use Role::*;

pub(crate) const ROLES: [Role; 11] = [
    Foundation,
    Team,
    OtherTeam,
    Invited,
    Collaborator,
    Reporter,
    OtherReporter,
    Distributor,
    OtherDistributor,
    Admin,
    Anonymous,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Embargoed,
    Public,
}

impl Role {
    pub(crate) fn signed_in(self) -> bool {
        !matches!(self, Reporter | OtherReporter | Anonymous)
    }
    pub(crate) fn team(self) -> bool {
        matches!(self, Foundation | Team)
    }
    pub(crate) fn reads(self) -> bool {
        self.team() || self == Collaborator
    }
}

/// Requests signed in when the role is, 401 otherwise; `ok` for those `allowed`, else 404.
fn secured(role: Role, allowed: bool, ok: u16) -> u16 {
    match (role.signed_in(), allowed) {
        (false, _) => 401,
        (true, true) => ok,
        (true, false) => 404,
    }
}

/// Administration: 403 for the signed-in who are not administrators.
fn admin_only(role: Role, ok: u16) -> u16 {
    match (role.signed_in(), role == Admin) {
        (false, _) => 401,
        (true, true) => ok,
        (true, false) => 403,
    }
}

/// What each role gets from each route. A route of the router that is not here fails.
fn expected(method: &str, path: &str, role: Role, kind: Kind) -> u16 {
    let reporter_route = matches!(role, Reporter | OtherReporter);
    match (method, path) {
        ("GET", "/healthz") | ("GET", "/readyz") | ("GET", "/api/terms") => 200,
        ("DELETE", "/api/session") => 204,
        ("POST", "/api/session") => 401,
        ("POST", "/api/invitations/accept") => 404,
        // Nobody in the matrix has an invitation waiting.
        ("POST", "/api/cases/{ref}/invitation/accept") => secured(role, false, 404),
        ("GET", "/api/public/cases/{ref}") => match kind {
            Kind::Embargoed => 404,
            Kind::Public => 200,
        },
        // The secret is the reporter's own; anyone else holds none that works.
        ("GET", "/api/reporter/{secret}") => {
            if reporter_route {
                200
            } else {
                404
            }
        }
        ("POST", "/api/reporter/{secret}/messages") => {
            if reporter_route {
                201
            } else {
                404
            }
        }
        // The reporter's answer to the date: none is left to agree once announced (the
        // other reporter answers on their own case, which is not).
        ("POST", "/api/reporter/{secret}/embargo") => match (reporter_route, kind) {
            (false, _) => 404,
            (true, Kind::Public) if role == Reporter => 422,
            (true, _) => 200,
        },
        ("POST", "/api/reporter/{secret}/credit") | ("POST", "/api/reporter/{secret}/identity") => {
            if reporter_route {
                200
            } else {
                404
            }
        }
        ("GET", "/api/me")
        | ("GET", "/api/orgs")
        | ("GET", "/api/projects")
        | ("GET", "/api/projects/{key}")
        | ("GET", "/api/projects/{key}/committee")
        | ("GET", "/api/cases")
        | ("GET", "/api/prenotified") => secured(role, true, 200),
        // Both ask for the password again; the matrix sends a wrong one.
        ("POST", "/api/tokens") | ("POST", "/api/me/totp") => secured(role, true, 422),
        ("POST", "/api/me/totp/confirm") | ("POST", "/api/me/password") => secured(role, true, 422),
        ("DELETE", "/api/tokens/{id}") => secured(role, true, 404),
        // The matrix sends no key: removing none is fine for anyone signed in.
        ("PUT", "/api/me/openpgp-key") => secured(role, true, 204),
        ("POST", "/api/users") | ("POST", "/api/orgs") | ("POST", "/api/projects") => {
            admin_only(role, 201)
        }
        ("PATCH", "/api/projects/{key}") | ("POST", "/api/projects/{key}/committee") => {
            admin_only(role, 200)
        }
        ("POST", "/api/orgs/{name}/foundation-team") | ("POST", "/api/projects/{key}/members") => {
            admin_only(role, 204)
        }
        ("DELETE", "/api/projects/{key}/members/{email}") => admin_only(role, 404),
        // Invitations: an administrator brings in someone off the committee; the teams
        // that see the project may invite committee members only (the matrix's newcomer
        // is not one); anyone else finds no project.
        ("POST", "/api/projects/{key}/invitations") => match (role.signed_in(), role) {
            (false, _) => 401,
            (true, Admin) => 201,
            (true, Foundation | Team) => 422,
            (true, _) => 404,
        },
        // The foundation team (the CNA) alone delegates CVE ID reservation.
        ("PUT", "/api/projects/{key}/cve-delegation") => match (role.signed_in(), role) {
            (false, _) => 401,
            (true, Foundation) => 204,
            (true, _) => 403,
        },
        ("GET", "/api/projects/{key}/members") => {
            match (role.signed_in(), role == Admin || role.team()) {
                (false, _) => 401,
                (true, true) => 200,
                (true, false) => 403,
            }
        }
        ("GET", "/api/projects/{key}/deny-list") => secured(role, role.team(), 200),
        // The team decides who hears of its embargoes, not the administrators.
        ("POST", "/api/projects/{key}/distributors") => secured(role, role.team(), 204),
        // victim@example.org is no distributor, and holds no revoked grant.
        ("DELETE", "/api/projects/{key}/distributors/{email}")
        | ("POST", "/api/cases/{ref}/distributors/{email}") => secured(role, false, 404),
        ("POST", "/api/cases") => secured(role, role.team(), 201),
        ("GET", "/api/cases/{ref}")
        | ("GET", "/api/cases/{ref}/timeline")
        | ("GET", "/api/cases/{ref}/checklist")
        | ("GET", "/api/cases/{ref}/collaborators") => secured(role, role.reads(), 200),
        ("POST", "/api/cases/{ref}/notes") => secured(role, role.reads(), 201),
        ("GET", "/api/cases/{ref}/attachments") => secured(role, role.reads(), 200),
        ("POST", "/api/cases/{ref}/replies") => secured(role, role.team(), 201),
        ("GET", "/api/cases/{ref}/duplicates") => secured(role, role.team(), 200),
        ("POST", "/api/projects/{key}/import") => secured(role, role.team(), 201),
        ("GET", "/api/projects/{key}/responses")
        | ("PUT", "/api/projects/{key}/responses/{name}") => {
            secured(role, role.team() || role == Admin, 200)
        }
        ("POST", "/api/public/projects/{key}/reports") => 201,
        // Public for anyone; the matrix's projects have no team key.
        ("GET", "/api/public/projects/{key}/openpgp-key") => 404,
        // The public site: an advisory exists once announced; no CNA identity and no
        // security contact are configured here.
        ("GET", "/advisories") | ("GET", "/advisories.atom") => 200,
        ("GET", "/advisories/{ref}")
        | ("GET", "/advisories/{ref}/osv.json")
        | ("GET", "/advisories/{ref}/csaf.json") => match kind {
            Kind::Embargoed => 404,
            Kind::Public => 200,
        },
        // The matrix asks for a file name no advisory has (issue22 tests the right one).
        ("GET", "/advisories/{ref}/csaf/{file}") => 404,
        ("GET", "/advisories/{ref}/cve.json") => match kind {
            Kind::Embargoed => 404,
            Kind::Public => 422,
        },
        ("GET", "/projects/{key}/security.txt") => 422,
        ("GET", "/projects/{key}/advisories") => 200,
        ("GET", "/.well-known/security.txt") => 404,
        ("GET", "/acknowledge/{secret}") => 200,
        ("POST", "/acknowledge/{secret}") => 404,
        ("GET", "/api/cases/{ref}/prenotifications") => secured(role, role.team(), 200),
        // Disclosure: the team's; what follows the announcement is refused before it.
        ("GET", "/api/cases/{ref}/announcement")
        | ("POST", "/api/cases/{ref}/disclosure/rehearsal") => secured(role, role.team(), 200),
        // Nothing is scheduled on the matrix's cases, so cancelling is refused too.
        ("POST", "/api/cases/{ref}/disclosure")
        | ("DELETE", "/api/cases/{ref}/disclosure")
        | ("GET", "/api/cases/{ref}/cve-record") => secured(role, role.team(), 422),
        ("GET", "/api/cases/{ref}/changes") => secured(
            role,
            role.reads(),
            match kind {
                Kind::Embargoed => 422,
                Kind::Public => 200,
            },
        ),
        ("GET", "/api/projects/{key}/changes") => secured(role, role.team(), 200),
        ("GET", "/api/projects/{key}/metrics") => secured(role, role.team(), 200),
        ("GET", "/api/orgs/{name}/metrics") => secured(role, role == Foundation, 200),
        // CVE Services: the matrix's cases have IDs and the organisation no credentials.
        // Reserving is the foundation team's (the CNA's); a project team is told so.
        ("POST", "/api/cases/{ref}/cve/reserve") => match role {
            Team => 403,
            _ => secured(role, role.team(), 422),
        },
        ("POST", "/api/cases/{ref}/cve/publish") | ("POST", "/api/cases/{ref}/cve/reject") => {
            secured(role, role.team(), 422)
        }
        ("GET", "/api/projects/{key}/quarantine") => {
            secured(role, role.team() || role == Admin, 200)
        }
        ("POST", "/api/projects/{key}/quarantine/{id}/release") => secured(role, false, 404),
        ("GET", "/api/projects/{key}/intake") => secured(role, role.team() || role == Admin, 200),
        // No third-party message 999999: not found for everyone.
        ("POST", "/api/cases/{ref}/messages/{id}/accept-sender")
        | ("POST", "/api/cases/{ref}/messages/{id}/quarantine") => secured(role, false, 404),
        // No attachment 999999: not found for everyone, like a case out of reach.
        ("GET", "/api/cases/{ref}/attachments/{id}") => secured(role, false, 404),
        ("GET", "/api/cases/{ref}/advisory") => {
            secured(role, role.reads() || role == Distributor, 200)
        }
        ("PATCH", "/api/cases/{ref}") => secured(role, role.team(), 422),
        ("POST", "/api/cases/{ref}/transitions") => secured(role, role.team(), 409),
        // Only the foundation team routes; the body names no project of the organisation.
        ("POST", "/api/cases/{ref}/route") => match role {
            Foundation => 422,
            Team => 403,
            _ => secured(role, false, 200),
        },
        ("PUT", "/api/cases/{ref}/checklist/{item}") => secured(role, role.team(), 200),
        // Triage views: the team's; the matrix's cases are past triage, so none is given.
        ("GET", "/api/cases/{ref}/views") => secured(role, role.team(), 200),
        ("PUT", "/api/cases/{ref}/views") | ("POST", "/api/cases/{ref}/views/request") => {
            secured(role, role.team(), 422)
        }
        // The fix per branch: read by whoever reads the case, recorded by the team, and
        // patches and evidence offered by collaborators too; the matrix names no branch
        // of the project and sends no patch.
        ("GET", "/api/cases/{ref}/fixes") => secured(role, role.reads(), 200),
        ("PUT", "/api/cases/{ref}/fixes") => secured(role, role.team(), 422),
        ("POST", "/api/cases/{ref}/fixes/patch") | ("POST", "/api/cases/{ref}/testing") => {
            secured(role, role.reads(), 422)
        }
        // No file 999999: not found for everyone.
        ("GET", "/api/cases/{ref}/files/{id}") => secured(role, false, 404),
        // The team's export: the advisory as it would be published.
        ("GET", "/api/cases/{ref}/documents/{format}") => secured(role, role.team(), 200),
        ("POST", "/api/cases/{ref}/collaborators") => secured(role, role.team(), 201),
        ("DELETE", "/api/cases/{ref}/access/{email}") => secured(role, role.team(), 204),
        ("POST", "/api/cases/{ref}/reporter-link") => secured(role, role.team(), 200),
        ("POST", "/api/cases/{ref}/prenotify") => secured(
            role,
            role.team(),
            match kind {
                Kind::Embargoed => 200,
                Kind::Public => 422,
            },
        ),
        _ => panic!("{method} {path} is missing from the authorisation matrix"),
    }
}

fn report(title: &str) -> NewReport {
    NewReport {
        project: "CLOUDSTACK".parse().unwrap(),
        title: title.into(),
        description: format!("{title}: the report"),
        reporter: embargo_core::case::Reporter {
            name: Some("Finder".into()),
            email: Some("finder@example.net".into()),
        },
        channel: Channel::Api,
    }
}

fn moved(reason: &str) -> TransitionRequest {
    TransitionRequest {
        reason: Some(reason.into()),
        ..Default::default()
    }
}

/// Files a case and takes it to release-pending.
async fn release_pending(store: &Store, team: &Viewer, title: &str, cve: &str) -> CaseRef {
    let r: CaseRef = store
        .create_case(team, report(title))
        .await
        .unwrap()
        .reference;
    for to in [
        State::Triage,
        State::Confirmed,
        State::Fixing,
        State::FixReady,
    ] {
        if to == State::FixReady {
            crate::support::fix_everywhere(store, team, &r).await;
        }
        store
            .transition(team, &r, to, &moved("matrix"))
            .await
            .unwrap();
    }
    let patch = CasePatch {
        cvss: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N".into()),
        cve_id: Some(cve.into()),
        embargo_at: Some(OffsetDateTime::now_utc() + time::Duration::days(3)),
        versions: Some(Versions {
            affected: vec!["1.0".into()],
            fixed: vec!["1.1".into()],
            ..Versions::default()
        }),
        advisory: Some(AdvisoryDraft {
            title: format!("{title} advisory"),
            description: "Described.".into(),
            mitigation: "Upgrade.".into(),
            credit: "Finder".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    store.update_case(team, &r, patch).await.unwrap();
    store
        .transition(team, &r, State::ReleasePending, &moved("matrix"))
        .await
        .unwrap();
    r
}

pub(crate) struct Setup {
    pub(crate) tokens: Vec<(Role, Option<String>)>,
    pub(crate) cases: Vec<(Kind, CaseRef, String)>,
    pub(crate) other_reporter_secret: String,
}

pub(crate) async fn setup(store: &Store) -> Setup {
    let people = seed(store).await;
    let viewer = |email: &'static str| async move {
        store
            .viewer(store.user_by_email(email).await.unwrap().id)
            .await
            .unwrap()
    };
    let alice = viewer("alice@example.org").await;
    for email in ["erin@example.org", "frank@example.org"] {
        store.create_user(email, None, false).await.unwrap();
    }
    store
        .add_distributor(&alice, &"CLOUDSTACK".parse().unwrap(), "erin@example.org")
        .await
        .unwrap();
    let bob = viewer("bob@example.org").await;
    store
        .add_distributor(&bob, &"OTHER".parse().unwrap(), "frank@example.org")
        .await
        .unwrap();

    let embargoed = release_pending(store, &alice, "Embargoed case", "CVE-2026-30001").await;
    let public = release_pending(store, &alice, "Public case", "CVE-2026-30002").await;
    let other = store
        .create_case(&alice, report("Another report"))
        .await
        .unwrap()
        .reference;
    let dave = store
        .create_user("dave@example.org", Some("dave's long password"), false)
        .await
        .unwrap();
    let dave = store.viewer(dave.id).await.unwrap();
    let mut cases = Vec::new();
    for (kind, r) in [(Kind::Embargoed, &embargoed), (Kind::Public, &public)] {
        assert_eq!(
            store.prenotify(&alice, r).await.unwrap(),
            ["erin@example.org"]
        );
        store
            .invite_collaborator(&alice, r, "carol@example.org")
            .await
            .unwrap();
        store
            .invite_collaborator(&alice, r, "dave@example.org")
            .await
            .unwrap();
        store.accept_invitation_as(&dave, r).await.unwrap();
        cases.push((
            kind,
            r.clone(),
            store.reporter_link(&alice, r).await.unwrap(),
        ));
    }
    let req = TransitionRequest {
        override_reason: Some("matrix".into()),
        not_sent_reason: Some("matrix: announced by hand".into()),
        ..Default::default()
    };
    store
        .transition(&alice, &public, State::Announced, &req)
        .await
        .unwrap();
    store
        .transition(&alice, &public, State::Public, &moved("matrix"))
        .await
        .unwrap();

    let token = |email: &'static str| async move {
        let user = store.user_by_email(email).await.unwrap();
        Some(store.create_token(user.id, "matrix").await.unwrap().secret)
    };
    let tokens = vec![
        (Foundation, Some(people.fiona.clone())),
        (Team, Some(people.alice.clone())),
        (OtherTeam, Some(people.bob.clone())),
        (Invited, token("carol@example.org").await),
        (Collaborator, token("dave@example.org").await),
        (Reporter, None),
        (OtherReporter, None),
        (Distributor, token("erin@example.org").await),
        (OtherDistributor, token("frank@example.org").await),
        (Admin, Some(people.admin.clone())),
        (Anonymous, None),
    ];
    Setup {
        tokens,
        cases,
        other_reporter_secret: store.reporter_link(&alice, &other).await.unwrap(),
    }
}

fn body_for(method: &str, path: &str, n: usize) -> Option<Value> {
    Some(match (method, path) {
        ("POST", "/api/session") => {
            // A name of its own each time: five failures for one name lock this client out of it.
            json!({ "email": format!("nobody{n}@example.org"), "password": "not the password" })
        }
        ("POST", "/api/me/totp/confirm") => json!({ "code": "abc" }),
        ("POST", "/api/me/password") => {
            json!({ "current": "not the password", "new": "a new long password" })
        }
        ("POST", "/api/invitations/accept") => {
            json!({ "secret": "inv_not-a-real-one", "accept_terms": true })
        }
        ("POST", "/api/reporter/{secret}/messages") => json!({ "text": "Any news?" }),
        ("POST", "/api/reporter/{secret}/identity") => json!({ "share": false }),
        ("POST", "/api/reporter/{secret}/embargo") => {
            json!({ "propose": "2040-01-01T00:00:00Z", "note": "matrix" })
        }
        ("POST", "/api/reporter/{secret}/credit") => json!({ "choice": "anonymous" }),
        ("POST", "/api/tokens") => json!({ "name": "matrix", "password": "not the password" }),
        ("POST", "/api/me/totp") => json!({ "password": "not the password" }),
        ("POST", "/api/users") => json!({ "email": format!("user{n}@example.org") }),
        ("POST", "/api/orgs") => json!({ "name": format!("Org {n}") }),
        ("POST", "/api/projects") => json!({ "org": "ASF", "key": format!("P{n}") }),
        ("PATCH", "/api/projects/{key}") => json!({}),
        ("PUT", "/api/projects/{key}/cve-delegation") => json!({ "delegated": false }),
        ("PUT", "/api/cases/{ref}/views") => json!({ "disposition": "valid", "reason": "matrix" }),
        ("PUT", "/api/cases/{ref}/fixes") => json!({ "branch": "nope", "stage": "not-affected" }),
        ("POST", "/api/cases/{ref}/testing") => json!({ "text": "" }),
        ("POST", "/api/cases/{ref}/views/request") => json!({ "members": ["alice@example.org"] }),
        ("POST", "/api/projects/{key}/committee") => json!({ "emails": ["alice@example.org"] }),
        ("POST", "/api/orgs/{name}/foundation-team") => json!({ "email": "fiona@example.org" }),
        ("POST", "/api/projects/{key}/members") => json!({ "email": "alice@example.org" }),
        ("POST", "/api/projects/{key}/invitations") => {
            json!({ "email": format!("newcomer{n}@example.org") })
        }
        ("POST", "/api/projects/{key}/distributors") => json!({ "email": "erin@example.org" }),
        ("POST", "/api/cases") => json!({ "project": "CLOUDSTACK", "title": "Matrix report" }),
        ("PATCH", "/api/cases/{ref}") => json!({ "title": "" }),
        ("POST", "/api/cases/{ref}/transitions") => json!({ "to": "reported" }),
        ("POST", "/api/cases/{ref}/route") => json!({ "project": "NOPE" }),
        ("POST", "/api/cases/{ref}/cve/reject") => json!({ "reason": "matrix" }),
        ("PUT", "/api/cases/{ref}/checklist/{item}") => {
            json!({ "status": "done", "note": "matrix" })
        }
        ("PUT", "/api/me/openpgp-key") => json!({ "key": null }),
        ("POST", "/api/cases/{ref}/collaborators") => {
            json!({ "email": format!("helper{n}@example.org") })
        }
        ("POST", "/api/cases/{ref}/notes") => json!({ "text": "matrix note" }),
        ("POST", "/api/cases/{ref}/replies") => json!({ "text": "matrix reply" }),
        ("POST", "/api/projects/{key}/import") => {
            json!({ "content": "## Imported finding\nFrom the matrix." })
        }
        ("PUT", "/api/projects/{key}/responses/{name}") => {
            json!({ "text": "Please send more for {ref}." })
        }
        ("POST", "/api/public/projects/{key}/reports") => {
            json!({ "title": "Form report", "description": "Found on the form." })
        }
        _ if method == "POST" || method == "PATCH" || method == "PUT" => json!({}),
        _ => return None,
    })
}

/// Whether `text` holds `needle` as a whole (a reference followed by a digit is another).
fn mentions(text: &str, needle: &str) -> bool {
    text.match_indices(needle)
        .any(|(at, _)| !text[at + needle.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

fn without_request_id(mut body: Value) -> Value {
    if let Some(map) = body.as_object_mut() {
        map.remove("request_id");
    }
    body
}

async fn matrix(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let setup = setup(&store).await;
    let alice = store
        .viewer(store.user_by_email("alice@example.org").await.unwrap().id)
        .await
        .unwrap();
    let server = Server::start(store.clone()).await;
    let routes = embargo_server::routes();
    let roles: Vec<Role> = setup.tokens.iter().map(|(role, _)| *role).collect();
    assert_eq!(roles, ROLES, "every role is tried");
    assert!(routes.len() >= 40, "the route list comes from the router");
    let mut n = 0;
    let mut failures = Vec::new();
    for (kind, case, secret) in &setup.cases {
        for (role, token) in &setup.tokens {
            let api = Api::new(&server.url, token.as_deref());
            for (method, template) in &routes {
                n += 1;
                let own_secret = match role {
                    Reporter => secret.clone(),
                    OtherReporter => setup.other_reporter_secret.clone(),
                    _ => "rl_not-a-real-secret".to_owned(),
                };
                // The invitee accepting would make them a collaborator for every later
                // request; that acceptance is tried in roles:: instead.
                if *role == Invited && template.ends_with("/invitation/accept") {
                    continue;
                }
                if template.contains("/access/{email}") {
                    // Someone to withdraw: engaged afresh before each attempt.
                    store
                        .invite_collaborator(&alice, case, "victim@example.org")
                        .await
                        .unwrap();
                }
                let fill = |r: &str| {
                    template
                        .replace("{ref}", r)
                        .replace("{key}", "CLOUDSTACK")
                        .replace(
                            "{name}",
                            if template.contains("/responses/") {
                                "needs-more-info"
                            } else {
                                "ASF"
                            },
                        )
                        .replace("{secret}", &own_secret)
                        .replace("{item}", "release-ready")
                        .replace("{id}", "999999")
                        .replace("{format}", "osv")
                        .replace("{file}", "not-this-one.json")
                        .replace(
                            "{email}",
                            if template.contains("/members/") {
                                "nobody@example.org"
                            } else {
                                "victim@example.org"
                            },
                        )
                };
                let path = fill(&case.to_string());
                let method_m: Method = method.parse().unwrap();
                let (status, body) = api
                    .request(method_m.clone(), &path, body_for(method, template, n))
                    .await;
                let want = expected(method, template, *role, *kind);
                if status.as_u16() != want {
                    failures.push(format!(
                        "{role:?} {kind:?} {method} {path}: got {status}, expected {want}: {body}"
                    ));
                }
                let text = body.to_string();
                let outsider = matches!(
                    role,
                    OtherTeam | Invited | OtherReporter | OtherDistributor | Admin | Anonymous
                );
                // The public API and site show an announced case's advisory to anyone.
                let published = *kind == Kind::Public
                    && (template.starts_with("/api/public/")
                        || template.starts_with("/advisories")
                        || template == "/projects/{key}/advisories");
                if outsider && !published {
                    let title = match kind {
                        Kind::Embargoed => "Embargoed case",
                        Kind::Public => "Public case",
                    };
                    for secret_text in [
                        format!("{title}: the report"),
                        "matrix note".to_owned(),
                        case.to_string(),
                    ] {
                        if mentions(&text, &secret_text) {
                            failures.push(format!(
                                "{role:?} {kind:?} {method} {path} revealed {secret_text:?}: {text}"
                            ));
                        }
                    }
                }
                // A case out of reach answers byte for byte like one that does not exist.
                if status == 404 && template.contains("{ref}") && !role.reads() {
                    let missing = fill("CLOUDSTACK-SEC-9999");
                    let (status2, body2) = api
                        .request(method_m, &missing, body_for(method, template, n))
                        .await;
                    if status2 != status
                        || without_request_id(body2.clone()) != without_request_id(body.clone())
                    {
                        failures.push(format!("{role:?} {kind:?} {method} {path}: {status} {body} differs from a missing case: {status2} {body2}"));
                    }
                }
            }
        }
    }
    server.stop().await;
    assert!(
        failures.is_empty(),
        "{} of {n} combinations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_matrix_sqlite() {
    matrix(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorisation_matrix_postgres() {
    matrix(Backend::Postgres).await;
}
