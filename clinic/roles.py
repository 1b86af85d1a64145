"""The two roles, as groups: what each may do. A migration creates them; tests read them here."""

AESTHETICIAN = "Aesthetician"
MANAGER = "Manager"

_CLINICAL = {
    "consultations": ["client", "consultation", "recordedconcern"],
    "treatments": [
        "treatmentplan",
        "planconcern",
        "treatmentsession",
        "sessionarea",
        "sessionproduct",
        "sessionprogress",
        "photo",
    ],
}
_CATALOGUE = {"catalogue": ["concern", "product"]}

# (app_label, codename) pairs.
AESTHETICIAN_PERMISSIONS = sorted(
    [
        (app, f"{action}_{model}")
        for app, models in _CLINICAL.items()
        for model in models
        for action in ("view", "add", "change")
    ]
    + [(app, f"view_{model}") for app, models in _CATALOGUE.items() for model in models]
)

# Managers: every permission of these apps (the clinical records, the catalogue, history,
# access events, sign-in records and staff accounts). The admin still never deletes clinical
# records: their admins refuse deletion whatever the permission says.
MANAGER_APPS = ["catalogue", "consultations", "treatments", "axes", "auth"]


def sync_groups(apps):
    """Create both groups and give each exactly its permissions (used by migrations)."""
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; create them now so the groups get them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    aesthetician, _ = Group.objects.get_or_create(name=AESTHETICIAN)
    aesthetician.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in AESTHETICIAN_PERMISSIONS
        ]
    )
    manager, _ = Group.objects.get_or_create(name=MANAGER)
    manager.permissions.set(Permission.objects.filter(content_type__app_label__in=MANAGER_APPS))
