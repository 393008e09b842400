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
    /// Signed in with a read-only API token: may read, never change.
    pub read_only: bool,
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
            read_only: false,
        }
    }

    /// Whether this person may see the cases of a project.
    pub fn can_see_project(&self, project_id: i64) -> bool {
        self.visible_projects.contains(&project_id)
    }
}

/// A per-case role held by someone outside the project's team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Engaged by the team for this case; counts only once the terms are accepted.
    Collaborator {
        /// Whether the confidentiality terms have been accepted.
        accepted: bool,
    },
    /// A distributor contact the team pre-notified of this case.
    Distributor,
}

impl Grant {
    /// The stored name of the kind.
    pub fn kind(self) -> &'static str {
        match self {
            Grant::Collaborator { .. } => "collaborator",
            Grant::Distributor => "distributor",
        }
    }
}

/// How much of one case a person may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaseAccess {
    /// Nothing: the case does not exist for them.
    None,
    /// The advisory draft, the fixed versions and the embargo date (distributors).
    Advisory,
    /// The whole case, adding notes, proposing patches and adding testing evidence
    /// (collaborators who accepted the terms).
    Collaborator,
    /// Everything, including moving the case and engaging others (the teams).
    Team,
}

/// What an operation on a case needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read the advisory draft, fix and embargo date.
    Advisory,
    /// Read the whole case, or add a note.
    Read,
    /// Offer work on the fix: propose a private patch, or add testing evidence. The
    /// team still decides what is merged and released.
    Contribute,
    /// Change the case, or grant others access to it.
    Change,
}

impl CaseAccess {
    /// Whether this access allows an operation.
    pub fn allows(self, need: Need) -> bool {
        match need {
            Need::Advisory => self >= CaseAccess::Advisory,
            Need::Read | Need::Contribute => self >= CaseAccess::Collaborator,
            Need::Change => self == CaseAccess::Team,
        }
    }
}

/// The one rule: what a person may reach of a case of `project_id`, given the per-case
/// role they hold on it, if any. Administration grants nothing.
pub fn case_access(viewer: &Viewer, project_id: i64, grant: Option<Grant>) -> CaseAccess {
    if viewer.can_see_project(project_id) {
        return CaseAccess::Team;
    }
    match grant {
        Some(Grant::Collaborator { accepted: true }) => CaseAccess::Collaborator,
        Some(Grant::Distributor) => CaseAccess::Advisory,
        Some(Grant::Collaborator { accepted: false }) | None => CaseAccess::None,
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

    #[test]
    fn per_case_roles_reach_only_what_they_may() {
        let projects = [ProjectScope {
            project_id: 1,
            org_id: 10,
        }];
        let outsider = Viewer::resolve(9, true, &[], &projects);
        let invited = Grant::Collaborator { accepted: false };
        let accepted = Grant::Collaborator { accepted: true };
        assert_eq!(case_access(&outsider, 1, None), CaseAccess::None);
        assert_eq!(case_access(&outsider, 1, Some(invited)), CaseAccess::None);
        let collaborator = case_access(&outsider, 1, Some(accepted));
        assert!(collaborator.allows(Need::Read) && !collaborator.allows(Need::Change));
        let distributor = case_access(&outsider, 1, Some(Grant::Distributor));
        assert!(distributor.allows(Need::Advisory) && !distributor.allows(Need::Read));
        let team = Viewer::resolve(
            3,
            false,
            &[Membership::ProjectTeam { project_id: 1 }],
            &projects,
        );
        assert!(case_access(&team, 1, None).allows(Need::Change));
    }
}
