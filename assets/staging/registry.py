"""The six families, in the order the data's path needs them (programmation before what refers to it)."""

from assets.staging import bilans_actions, cohortes, engagements, indicateurs, programmation, tfpb
from assets.staging.family import Family

FAMILIES: dict[str, Family] = {
    f.name: f for f in (programmation.FAMILY, bilans_actions.FAMILY, engagements.FAMILY, tfpb.FAMILY,
                        indicateurs.FAMILY, cohortes.FAMILY)
}


def family_of(file_name: str) -> Family | None:
    """A file's family is the start of its name; the longest match wins (`bilans_actions` before `bilan`)."""
    lower = file_name.lower()
    for name in sorted(FAMILIES, key=len, reverse=True):
        if lower.startswith(name):
            return FAMILIES[name]
    return None
