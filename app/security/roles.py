"""Roles and the permissions each grants: the one place the access matrix is defined.

Object-level need-to-know (unit and handling code) is checked separately, in
``app.security.access``; a permission only says what kind of work a role may do.
"""

INTELLIGENCE_OFFICER = "intelligence_officer"
RISK_ANALYST = "risk_analyst"
PCA_AUDITOR = "pca_auditor"
SUPERVISOR = "supervisor"
ENFORCEMENT_OFFICER = "enforcement_officer"
ADMINISTRATOR = "administrator"
DATA_PROTECTION_OFFICER = "data_protection_officer"

ROLE_LABELS = {
    INTELLIGENCE_OFFICER: "Intelligence officer",
    RISK_ANALYST: "Risk analyst",
    PCA_AUDITOR: "Post-clearance auditor",
    SUPERVISOR: "Supervisor",
    ENFORCEMENT_OFFICER: "Enforcement officer",
    ADMINISTRATOR: "Administrator",
    DATA_PROTECTION_OFFICER: "Data-protection officer (internal affairs)",
}
ROLES = tuple(ROLE_LABELS)

# Permission names are "<domain>.<what>"; keep them coarse enough to read in a table.
PERMISSIONS = {
    "case.view": "Open cases and their journal, tasks and evidence",
    "case.create": "Record seizures, offences and audit cases",
    "case.edit": "Edit cases, add items, parties, tasks and journal entries",
    "case.export": "Export case lists (with a justification)",
    "case.stats": "Read case statistics",
    "case.decide": "Take offence decisions and close cases",
    "case.decision.correct": "Correct an offence decision (with a reason; a new version)",
    "entity.view": "Open entities and their links",
    "entity.edit": "Create and edit entities and links",
    "entity.merge": "Decide entity resolution candidates and merge entities",
    "intel.view": "Read intelligence reports",
    "intel.edit": "Write and grade intelligence reports",
    "intel.disseminate": "Disseminate intelligence reports",
    "record.share": "Share a code-C record of the own unit with another unit or a user "
    "(reason and end date; revoke shares)",
    "search.use": "Search across records",
    "risk.declaration.view": "Open declarations and their assessment",
    "risk.control.record": "Record control results",
    "risk.channel.raise": "Ask to raise a declaration's channel",
    "risk.channel.approve": "Approve a raised channel",
    "risk.profile.view": "Read risk profiles and targeting KPIs",
    "risk.profile.edit": "Write and simulate risk profiles",
    "risk.profile.activate": "Activate and retire risk profiles; set selectivity rates",
    "risk.profile.approve": "Approve and activate a profile version another user wrote "
    "(four-eyes activation)",
    "risk.model.manage": "Train, activate and roll back ML models",
    "alert.view": "Receive and handle alerts",
    "alert.manage": "Manage watches and saved searches",
    "alert.supervise": "Supervise alerts of the unit",
    "audit.rating.view": "Read trader ratings and assessment reports",
    "audit.select": "Select traders for post-clearance audit",
    "news.view": "Read news articles and dependency networks",
    "news.terms.edit": "Edit term lists and promote mentions",
    "news.workbench": "Review news mentions in the workbench: edit, link, dismiss (promoting "
    "also needs entity.edit)",
    "news.manage": "Manage news feeds",
    "trail.view": "Query the access trail of the own unit (rows of its users and clients)",
    "trail.view_all": "Query the access trail of every unit (each such read is trailed)",
    "trail.export": "Export the access trail",
    "admin.users": "Manage users and units",
    "admin.clients": "Manage API clients and tokens",
    "admin.reference": "Manage reference lists and retention",
    "screening.view": "Read screening hits (parties matched on sanctions and watch lists)",
    "screening.judge": "Judge screening hits (true match, false positive, unsure); merging a "
    "true match into the registry also needs entity.edit",
    "screening.confidential": "Read which entry of a confidential (code C) screening list a "
    "party matched",
}

_COMMON = {"search.use", "alert.view", "entity.view", "news.view"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    INTELLIGENCE_OFFICER: frozenset(
        _COMMON
        | {
            "case.view",
            "case.create",
            "case.edit",
            "entity.edit",
            "entity.merge",
            "intel.view",
            "intel.edit",
            "intel.disseminate",
            "record.share",
            "risk.declaration.view",
            "risk.profile.view",
            "alert.manage",
            "news.terms.edit",
            "news.workbench",
            "audit.rating.view",
            "screening.view",
            "screening.judge",
            "screening.confidential",
        }
    ),
    RISK_ANALYST: frozenset(
        _COMMON
        | {
            "case.view",
            "intel.view",
            "risk.declaration.view",
            "risk.profile.view",
            "risk.profile.edit",
            "risk.profile.activate",
            "risk.profile.approve",
            "risk.model.manage",
            "alert.manage",
            "news.workbench",
            "audit.rating.view",
            "screening.view",
            "screening.judge",
        }
    ),
    PCA_AUDITOR: frozenset(
        _COMMON
        | {
            "case.view",
            "case.create",
            "case.edit",
            "case.export",
            "case.decide",
            "risk.declaration.view",
            "audit.rating.view",
            "audit.select",
        }
    ),
    SUPERVISOR: frozenset(
        _COMMON
        | {
            "case.view",
            "case.create",
            "case.edit",
            "case.export",
            "case.stats",
            "case.decide",
            "case.decision.correct",
            "entity.edit",
            "intel.view",
            "intel.disseminate",
            "record.share",
            "risk.declaration.view",
            "risk.channel.approve",
            "risk.profile.view",
            "risk.profile.approve",
            "alert.manage",
            "alert.supervise",
            "audit.rating.view",
            "trail.view",
            "trail.export",
            "screening.view",
            "screening.confidential",
        }
    ),
    ENFORCEMENT_OFFICER: frozenset(
        _COMMON
        | {
            "case.view",
            "case.create",
            "case.edit",
            "case.decide",
            "entity.edit",
            "intel.view",
            "risk.declaration.view",
            "risk.control.record",
            "risk.channel.raise",
        }
    ),
    # Administrators run the system, they do not read case or intelligence records.
    ADMINISTRATOR: frozenset(
        {
            "admin.users",
            "admin.clients",
            "admin.reference",
            "news.manage",
            "news.view",
            "trail.view",
            "trail.export",
            "alert.view",
        }
    ),
    # Internal affairs / data protection: the only role that reads who consulted what across
    # units; it reads no case or intelligence record itself.
    DATA_PROTECTION_OFFICER: frozenset({"trail.view", "trail.view_all", "trail.export"}),
}

#: Scopes an API client (system integration) can hold.
API_SCOPES = {
    "declarations:write": "Submit declarations for assessment",
    "declarations:read": "Read declarations and assessments",
    "control-results:write": "Send control results",
    "cases:read": "Read cases",
    "cases:write": "Create and update cases",
    "entities:read": "Read entities, links and reports",
    "entities:write": "Create entities, links and reports",
    "alerts:read": "List alerts",
    "alerts:write": "Acknowledge and close alerts; manage watches",
    "search:read": "Search",
    "shares:read": "List the shares of records the client may see",
    "shares:write": "Share code-C records of the client's unit and revoke shares",
    "screening:read": "List screening hits (parties matched on sanctions and watch lists)",
    "screening:write": "Judge screening hits",
}


def permissions_for(roles) -> frozenset[str]:
    """Union of the permissions granted by ``roles``."""
    granted: set[str] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)
