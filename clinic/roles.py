"""The two roles, as groups: what each may do today; tests read them here.

The clinic migrations create the groups from their own frozen copies of these lists: a change
here needs a migration that gives the groups the new permissions.
"""

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"

_CLINICAL = {
    "consultations": ["client", "consultation", "recordedconcern", "screeningfinding"],
    "treatments": [
        "course",
        "courseconcern",
        "treatmentsession",
        "sessionarea",
        "sessionproduct",
        "sessionprogress",
        "photo",
        "appointment",
        "adverseevent",
        "followupcall",
    ],
    # A signed consent's only change is its withdrawal (consent.services.withdraw_consent).
    "consent": ["signedconsent"],
}
# Reference data aestheticians read and managers keep (the washout rules live with the
# screening, in consultations).
_CATALOGUE = {
    "catalogue": ["bodyarea", "clinicdetails", "concern", "product"],
    "consultations": ["washoutrule"],
    "consent": ["consentdocument", "consentversion"],
}

# (app_label, codename) pairs.
AESTHETICIAN_PERMISSIONS = sorted(
    [
        (app, f"{action}_{model}")
        for app, models in _CLINICAL.items()
        for model in models
        for action in ("view", "add", "change")
    ]
    + [(app, f"view_{model}") for app, models in _CATALOGUE.items() for model in models]
    # Aestheticians see the clinic's lots and receive the pack in hand while logging a session:
    # they hold it, its number and expiry are read off it (or scanned), and the lot is stamped
    # with who received it. Quarantining and recalling stay with the managers.
    + [("stock", "view_lot"), ("stock", "receive_lot")]
)

# Managers: every permission of these apps (the clinical records, the catalogue, history,
# access events, the export log, sign-in records, staff accounts and API tokens). The admin
# still never deletes clinical records or tokens: their admins refuse deletion whatever the
# permission says.
MANAGER_APPS = [
    "catalogue",
    "clinic",
    "stock",
    "consent",
    "consultations",
    "treatments",
    "axes",
    "auth",
    "api",
]
