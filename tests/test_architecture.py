"""Arrows one way: the apps' layers (pyproject.toml's import-linter contract, which `make lint`
checks for imports) hold for the models' relations too, string references included."""

import tomllib
from pathlib import Path

from django.apps import apps

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def layers():
    """The apps from the top layer down, as the import contract lists them."""
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["type"] == "layers"]
    return contract["layers"]


def relations_pointing_up():
    """(model, field, related model) for every relation from a lower app to a higher one."""
    rank = {app: position for position, app in enumerate(reversed(layers()))}
    found = []
    for model in apps.get_models():
        app = model._meta.app_label
        if app not in rank:
            continue
        for field in model._meta.get_fields(include_hidden=True):
            if not field.is_relation or field.auto_created or field.related_model is None:
                continue
            target = field.related_model._meta.app_label
            if target in rank and rank[target] > rank[app]:
                found.append((model._meta.label, field.name, field.related_model._meta.label))
    return found


def test_every_project_app_is_in_a_layer():
    root = PYPROJECT.parent
    ours = {config.label for config in apps.get_app_configs() if Path(config.path).parent == root}
    assert ours == set(layers())


def test_no_foreign_key_points_up_a_layer():
    assert relations_pointing_up() == []
