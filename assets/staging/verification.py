"""One file checked against its contract before it is deposited, as the pipeline would stage it: `bilan verifier`
prints the verdict, the deposit portal shows it. The same code path for both, and the same as staging's (read,
rules of the file, rules of the set with the programming the last run left)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from assets.staging.load import known_programmation, programmation_from_snapshot
from core.familles.contract import AVERTISSEMENT, ERREUR
from core.familles.family import Context, Family, attach_provenance, parse_file, validate_set
from core.familles.reading import FichierIllisible
from core.resources import BilanSettings


@dataclass(frozen=True)
class Probleme:
    ligne: int | None
    feuille: str | None
    colonne: str
    valeur: str | None
    regle: str
    gravite: str          # erreur (the row is not kept) or avertissement (kept)
    message: str
    regle_decrite: str
    que_faire: str


@dataclass
class Verdict:
    famille: str
    territoire: str
    annee: int
    fichier: str
    refus: str | None = None                  # the whole file refused (unreadable, a required column missing…)
    lignes_lues: int = 0
    lignes_correctes: int = 0
    lignes_a_corriger: int = 0
    problemes: list[Probleme] = field(default_factory=list)
    encodage: str | None = None
    separateur: str | None = None
    colonnes_inconnues: list[str] = field(default_factory=list)
    colonnes_supprimees: list[str] = field(default_factory=list)
    note_croisee: str | None = None           # the cross-family rules could not be checked, and why

    @property
    def erreurs(self) -> int:
        return sum(1 for p in self.problemes if p.gravite == ERREUR)

    @property
    def avertissements(self) -> int:
        return sum(1 for p in self.problemes if p.gravite == AVERTISSEMENT)

    @property
    def sans_erreur(self) -> bool:
        """Readable and every row kept: what the portal accepts into the inbox."""
        return self.refus is None and self.lignes_a_corriger == 0


def known_programmation_for(parametres: BilanSettings, territoire: str) -> tuple[pd.DataFrame | None, str | None]:
    """The programming the cross-family rules compare with, from the snapshot the last run left: a run in
    progress holds the warehouse (DuckDB admits no reader beside a writer in another process), the snapshot is
    always readable. A warehouse from before snapshots is read directly when no run holds it."""
    known = programmation_from_snapshot(parametres.snapshot_dir, territoire)
    if known is not None:
        return known, None
    if not parametres.warehouse_path.is_file():
        return None, ("(règles croisées avec la programmation non vérifiées : aucun run dans "
                      f"{parametres.output_dir} — lancez d'abord `bilan run`)")
    try:
        with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
            return known_programmation(con, territoire), None
    except duckdb.IOException:
        return None, ("(règles croisées avec la programmation non vérifiées : un run écrit dans l'entrepôt "
                      "et aucun instantané n'existe encore — relancez `bilan verifier` après ce run)")


def verify(parametres: BilanSettings, family: Family, territoire: str, annee: int, path: Path,
           data: bytes | None = None, display_name: str | None = None) -> Verdict:
    """The verdict on one file (`path`, or `data` read already, named `display_name`) of `territoire` and `annee`.
    Raises CleInvalide when the pseudonymisation key is wrong (a cohort file cannot be read without it)."""
    cfg = parametres.config
    t = cfg.territoire(territoire)
    pseudonymiser = parametres.pseudonymiser(quiet=family.name != "cohortes")
    ctx = Context(territoire=t, annee=annee, referentiel=cfg.referentiel(t.referentiel),
                  catalogue=cfg.catalogue(t.catalogue_indicateurs), tolerance_ratio=cfg.settings.tolerance_ratio_points,
                  pseudonymise=pseudonymiser if family.name == "cohortes" else None, limites=cfg.settings.limites)
    verdict = Verdict(famille=family.name, territoire=territoire, annee=annee, fichier=display_name or path.name)
    if "programmation" in family.depends_on:
        ctx.programmation, verdict.note_croisee = known_programmation_for(parametres, territoire)
    try:
        parsed = parse_file(family, path, ctx, data, display_name)
    except FichierIllisible as exc:
        verdict.refus = str(exc)
        return verdict
    result = validate_set(family, [attach_provenance(parsed, "", 0)], ctx)
    verdict.encodage, verdict.separateur = parsed.encoding, parsed.separator
    verdict.colonnes_inconnues, verdict.colonnes_supprimees = parsed.unknown_columns, parsed.dropped_columns
    verdict.lignes_lues = parsed.rows_read
    verdict.lignes_a_corriger = sum(len(q) for q in result.quarantine.values())
    verdict.lignes_correctes = sum(len(c) for c in result.clean.values())
    errors = result.errors.sort_values(["feuille", "ligne", "colonne"], na_position="first")
    verdict.problemes = [
        Probleme(ligne=None if pd.isna(e.ligne) else int(e.ligne),
                 feuille=e.feuille if isinstance(e.feuille, str) else None, colonne=str(e.colonne),
                 valeur=None if pd.isna(e.valeur) else str(e.valeur), regle=str(e.regle), gravite=str(e.gravite),
                 message=str(e.message), regle_decrite=family.describe(e.regle), que_faire=family.que_faire(e.regle))
        for e in errors.itertuples()]
    return verdict
