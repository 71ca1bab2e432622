//! Stored records the browser also sees.

use serde::{Deserialize, Serialize};

/// The outcome of one "Test Email Server", kept to show "Last successful test: …".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestOutcome {
    pub success: bool,
    pub stage: crate::mailtest::Stage,
    pub summary: String,
    pub server: String,
    /// RFC 3339, UTC.
    pub finished_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestHistory {
    pub last: Option<TestOutcome>,
    pub last_success: Option<TestOutcome>,
}

/// One save in the audit log: who, when, and which fields changed (secrets only as "changed").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub who: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub changes: Vec<String>,
}

impl From<&crate::mailtest::TestReport> for TestOutcome {
    fn from(r: &crate::mailtest::TestReport) -> Self {
        Self {
            success: r.success,
            stage: r.stage,
            summary: r.summary.clone(),
            server: r.server.clone(),
            finished_at: r.finished_at.clone(),
        }
    }
}
