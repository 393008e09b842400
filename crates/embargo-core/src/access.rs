//! Who may see which case. This is the one rule; the storage layer applies it to every
//! case query, and a case a person may not see is treated exactly as one that does not exist.

use std::collections::BTreeSet;

/// A membership that grants access to cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Membership {
    /// Member of an organisation's foundation security team: every case of its projects.
    Foundation {
        /// The organisation.
        org_id: i64,
    },
    /// Member of a project's security team: every case of that project.
    ProjectTeam {
        /// The project.
        project_id: i64,
    },
}

/// A project, as far as access needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectScope {
    /// The project.
    pub project_id: i64,
    /// Its organisation.
    pub org_id: i64,
}

/// How a person reached content; recorded with each read in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Via {
    /// The JSON API with a token (scripts and the CLI's client commands).
    #[default]
    Api,
    /// The web UI, with a session.
    Web,
    /// A CLI command working directly on the data directory or database.
    Cli,
}

impl Via {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Api => "api",
            Via::Web => "web",
            Via::Cli => "cli",
        }
    }
}

/// A signed-in person and what they may see, resolved once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    /// The user's id.
    pub user_id: i64,
    /// Whether they administer the instance (which grants no case content by itself).
    pub is_admin: bool,
    /// The organisations whose foundation team they are on.
    pub foundation_orgs: BTreeSet<i64>,
    /// The projects whose cases they may see, through either kind of membership.
    pub visible_projects: BTreeSet<i64>,
    /// How they reached us, for the audit log.
    pub via: Via,
}

impl Viewer {
    /// Resolves memberships. `projects` must hold at least every project of the
    /// organisations whose foundation team the user is on; project teams need no lookup.
    pub fn resolve(
        user_id: i64,
        is_admin: bool,
        memberships: &[Membership],
        projects: &[ProjectScope],
    ) -> Viewer {
        let foundation_orgs: BTreeSet<i64> = memberships
            .iter()
            .filter_map(|m| match m {
                Membership::Foundation { org_id } => Some(*org_id),
                Membership::ProjectTeam { .. } => None,
            })
            .collect();
        let visible_projects = projects
            .iter()
            .filter(|p| foundation_orgs.contains(&p.org_id))
            .map(|p| p.project_id)
            .chain(memberships.iter().filter_map(|m| match m {
                Membership::ProjectTeam { project_id } => Some(*project_id),
                Membership::Foundation { .. } => None,
            }))
            .collect();
        Viewer {
            user_id,
            is_admin,
            foundation_orgs,
            visible_projects,
            via: Via::Api,
        }
    }

    /// Whether this person may see the cases of a project.
    pub fn can_see_project(&self, project_id: i64) -> bool {
        self.visible_projects.contains(&project_id)
    }
}

/// Only members of a project's management committee may join its security team.
pub fn may_join_project_team(email: &str, committee: &[String]) -> bool {
    committee
        .iter()
        .any(|member| member.eq_ignore_ascii_case(email))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foundation_sees_every_project_of_its_organisation_only() {
        let projects = [
            ProjectScope {
                project_id: 1,
                org_id: 10,
            },
            ProjectScope {
                project_id: 2,
                org_id: 10,
            },
            ProjectScope {
                project_id: 3,
                org_id: 20,
            },
        ];
        let v = Viewer::resolve(
            7,
            false,
            &[Membership::Foundation { org_id: 10 }],
            &projects,
        );
        assert!(v.can_see_project(1) && v.can_see_project(2) && !v.can_see_project(3));
        let v = Viewer::resolve(
            7,
            true,
            &[Membership::ProjectTeam { project_id: 3 }],
            &projects,
        );
        assert!(!v.can_see_project(1) && v.can_see_project(3));
        let admin = Viewer::resolve(1, true, &[], &projects);
        assert!(admin.visible_projects.is_empty());
    }
}
