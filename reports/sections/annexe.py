"""The technical annex: every source file of the bilan, its version and SHA-256 fingerprint, and the run's colophon."""

from __future__ import annotations

from core.config.bilan import Section
from reports.data import BilanData
from reports.plafonds import plafonner


def build(data: BilanData, section: Section, geography) -> dict:
    s = data.sources
    # the year's files first: earlier years' are those of the bilans already published
    shown = plafonner(s, data.rendu.lignes_par_tableau,
                      lambda f: f.sort_values("annee", ascending=False, kind="stable"))
    return {"fichiers": [{"famille": r.famille, "annee": r.annee, "fichier": r.nom_fichier, "version": r.version,
                          "sha256": r.sha256, "origine": r.origine} for r in shown.elements.itertuples()]
            if len(s) else [],
            "fichiers_plafond": shown.resume("fichiers", "les plus récents, par année")}
