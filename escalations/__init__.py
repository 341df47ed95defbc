"""What happens to a problem: flags, their lifecycle, notes, escalations, projects and the audit trail."""
