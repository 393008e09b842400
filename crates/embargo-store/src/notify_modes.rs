//! How each member hears of new reports and of messages from outside the team on a
//! project's cases: by mail at once (the default), in the daily digest, or never (the
//! queue still marks the case unread). The choice is each member's own, per project.

use std::collections::HashMap;

use embargo_core::access::Viewer;
use embargo_core::reference::ProjectKey;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::{Result, Store, StoreError};

/// When a member is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotifyMode {
    /// A mail as it happens.
    Immediately,
    /// A line in the daily digest.
    Digest,
    /// No mail: the queue shows it.
    Never,
}

impl NotifyMode {
    /// Every mode, in the order a form lists them.
    pub const ALL: [NotifyMode; 3] = [
        NotifyMode::Immediately,
        NotifyMode::Digest,
        NotifyMode::Never,
    ];

    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyMode::Immediately => "immediately",
            NotifyMode::Digest => "digest",
            NotifyMode::Never => "never",
        }
    }

    /// Reads a stored or typed name.
    pub fn parse(s: &str) -> Option<NotifyMode> {
        NotifyMode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// As a form says it.
    pub fn label(self) -> &'static str {
        match self {
            NotifyMode::Immediately => "by mail at once",
            NotifyMode::Digest => "in the daily digest",
            NotifyMode::Never => "never by mail (the queue shows it)",
        }
    }
}

/// A member's choice for one project.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectNotifyMode {
    /// The project key.
    pub project: String,
    /// Its name.
    pub name: String,
    /// The choice.
    pub mode: NotifyMode,
}

impl Store {
    /// The viewer's choice for each project whose team they are on.
    pub async fn notify_modes(&self, viewer: &Viewer) -> Result<Vec<ProjectNotifyMode>> {
        let rows = sqlx::query(
            "SELECT p.key, p.name, n.mode FROM team_members t JOIN projects p ON p.id = t.scope_id \
             LEFT JOIN notification_modes n ON n.project_id = p.id AND n.user_id = t.user_id \
             WHERE t.user_id = $1 AND t.kind = 'project' ORDER BY p.key",
        )
        .bind(viewer.user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let mode: Option<String> = r.try_get("mode")?;
                Ok(ProjectNotifyMode {
                    project: r.try_get("key")?,
                    name: r.try_get("name")?,
                    mode: mode
                        .as_deref()
                        .and_then(NotifyMode::parse)
                        .unwrap_or(NotifyMode::Immediately),
                })
            })
            .collect()
    }

    /// Sets the viewer's choice for a project whose team they are on.
    pub async fn set_notify_mode(
        &self,
        viewer: &Viewer,
        key: &ProjectKey,
        mode: NotifyMode,
    ) -> Result<()> {
        let project = self.project(key).await?;
        let on_team = sqlx::query(
            "SELECT 1 AS one FROM team_members WHERE user_id = $1 AND kind = 'project' AND scope_id = $2",
        )
        .bind(viewer.user_id)
        .bind(project.id)
        .fetch_optional(&self.pool)
        .await?
        .is_some();
        if !on_team {
            return Err(StoreError::NotFound("project"));
        }
        sqlx::query(
            "INSERT INTO notification_modes (user_id, project_id, mode) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, project_id) DO UPDATE SET mode = excluded.mode",
        )
        .bind(viewer.user_id)
        .bind(project.id)
        .bind(mode.as_str())
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Each member's choice on a project, by address; members without one are told at
    /// once.
    pub(crate) async fn modes_on_project(
        &self,
        project_id: i64,
    ) -> Result<HashMap<String, NotifyMode>> {
        let rows = sqlx::query(
            "SELECT u.email, n.mode FROM notification_modes n JOIN users u ON u.id = n.user_id WHERE n.project_id = $1",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let mode: String = r.try_get("mode")?;
                Ok((
                    r.try_get("email")?,
                    NotifyMode::parse(&mode).unwrap_or(NotifyMode::Immediately),
                ))
            })
            .collect()
    }
}
