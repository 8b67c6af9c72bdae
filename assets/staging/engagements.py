"""engagements — partners' commitments and what they achieved (contracts/engagements.md)."""

from __future__ import annotations

import pandas as pd

from assets.staging.contract import Col, TableContract, flag
from assets.staging.family import Context, Family, inbox_year_rule, normalise_objectif, qpv_rule

TYPES_PARTENAIRE = ("etat", "operateur_etat", "region", "departement", "epci", "commune", "bailleur", "sante",
                    "association", "autre")

ENGAGEMENTS = TableContract(
    name="engagements",
    columns=(
        Col("partenaire", required=True),
        Col("type_partenaire", "choix", choices=TYPES_PARTENAIRE),
        Col("annee", "entier", required=True, aliases=("annee_engagement",)),
        Col("code_objectif", required=True, aliases=("objectif",)),
        Col("engagement", required=True),
        Col("indicateur", required=True),
        Col("unite", "choix", required=True, choices=("nombre", "pourcentage", "euros")),
        Col("valeur_cible", "nombre", minimum=0, aliases=("cible",)),
        Col("valeur_realisee", "nombre", minimum=0, aliases=("realise", "valeur_atteinte")),
        Col("code_qpv", aliases=("qpv",)),
        Col("montant_droit_commun", "nombre", minimum=0),
        Col("commentaire", aliases=("commentaires",)),
    ),
    key=("partenaire", "engagement", "indicateur", "annee", "code_qpv"),
)


def objectif_rule(frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context, allow_axes: bool) -> pd.DataFrame:
    code = normalise_objectif(frame["code_objectif"])
    allowed = set(ctx.referentiel.codes_objectifs) | (set(ctx.referentiel.codes_axes) if allow_axes else set())
    frame["code_objectif"] = code
    unknown = code.notna() & ~code.isin(allowed)
    what = "d'objectif (OG.1.1) ou d'axe (1)" if allow_axes else "d'objectif (OG.1.1)"
    return flag(frame, unknown, "code_objectif", "objectif_inconnu",
                "« " + raw["code_objectif"].astype("string") + f" » n'est pas un code {what} du référentiel "
                + ctx.referentiel.code, value=raw["code_objectif"])


def row_rules(table: str, frame: pd.DataFrame, raw: pd.DataFrame, ctx: Context) -> list[pd.DataFrame]:
    frame["code_qpv"], qpv_errors = qpv_rule(frame, raw, ctx, "code_qpv")
    percent = frame["unite"] == "pourcentage"
    return [
        inbox_year_rule(frame, ctx),
        objectif_rule(frame, raw, ctx, allow_axes=True),
        qpv_errors,
        *(flag(frame, percent & (frame[c] > 100), c, "valeur_maximale",
               "« " + raw[c].astype("string") + " » : un pourcentage ne peut dépasser 100", value=raw[c])
          for c in ("valeur_cible", "valeur_realisee")),
    ]


FAMILY = Family(name="engagements", tables=(ENGAGEMENTS,), version="1", row_rules=row_rules)
