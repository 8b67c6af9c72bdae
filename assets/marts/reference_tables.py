"""Configuration as DuckDB tables (`ref` schema), so marts join on it in SQL: the territories and their QPV, the
domain vocabulary (`ref.vocabulaire`: domaine, code, libelle, rang…), so that no SQL file spells a domain list, and
the measure catalogue of each territory (`ref.mesures`, config/mesures.yaml with its patterns expanded)."""

from __future__ import annotations

import duckdb
import pandas as pd

from core.config.projet import ProjectConfig
from core.config.territoire import Territoire
from core.warehouse import transaction


def measure_rows(config: ProjectConfig, territoires: list[Territoire]) -> list[dict]:
    rows = []
    for t in territoires:
        declared = config.mesures.declarees(config.vocabulaire, config.catalogue(t.catalogue_indicateurs))
        rows += [{"territoire": t.code, "code": m.code, "libelle": m.libelle, "unite": m.unite, "famille": m.famille,
                  "nature": m.nature, "cles": ", ".join(m.cles), "perimetres": ", ".join(m.perimetres),
                  "terme": m.terme, "rang": i + 1} for i, m in enumerate(declared.values())]
    return rows


def engagement_codes(config: ProjectConfig, territoires: list[Territoire]) -> dict[str, pd.DataFrame]:
    """The referential's partner and indicator codes with their normalised spellings: marts.engagements matches a
    partner's line on them (ref.engagements_partenaires, ref.engagements_indicateurs), never on the raw text."""
    partners, indicators = [], []
    for t in territoires:
        p, i = config.referentiel(t.referentiel).alias_engagements()
        partners += [dict(r, territoire=t.code) for r in p]
        indicators += [dict(r, territoire=t.code) for r in i]
    partner_columns = ["territoire", "code_partenaire", "nom_partenaire", "cle_partenaire"]
    indicator_columns = ["territoire", "code_partenaire", "code_indicateur", "libelle_indicateur", "cle_indicateur"]
    return {"engagements_partenaires": pd.DataFrame(partners, columns=partner_columns).astype("string"),
            "engagements_indicateurs": pd.DataFrame(indicators, columns=indicator_columns).astype("string")}


def sync_reference_tables(con: duckdb.DuckDBPyConnection, config: ProjectConfig,
                          territoires: list[Territoire]) -> None:
    vocabulaire = config.vocabulaire
    tables = {
        "qpv": pd.DataFrame([{"territoire": t.code, "code_qpv": q.code, "nom_qpv": q.nom, "population": q.population,
                              "communes": ";".join(q.communes)} for t in territoires for q in t.qpv]),
        # the complementary geography (poches de pauvreté…): a table of its own so that no QPV total can take it in
        "quartiers_complementaires": pd.DataFrame(
            [{"territoire": t.code, "code_quartier": q.code, "type": q.type, "nom": q.nom, "population": q.population,
              "communes": ";".join(q.communes)} for t in territoires for q in t.quartiers_complementaires],
            columns=["territoire", "code_quartier", "type", "nom", "population", "communes"],
        ).astype({"territoire": "string", "code_quartier": "string", "type": "string", "nom": "string",
                  "population": "Int64", "communes": "string"}),
        # the transversal axes each objective serves (config/referentiels): a dossier serves its objective's and its own
        "objectifs_transversaux": pd.DataFrame(
            [{"territoire": t.code, "code_objectif": o.code, "code_transversal": x}
             for t in territoires for a in config.referentiel(t.referentiel).axes for o in a.objectifs
             for x in o.transversaux],
            columns=["territoire", "code_objectif", "code_transversal"]).astype("string"),
        "territoires": pd.DataFrame([{"territoire": t.code, "nom": t.nom, "nom_court": t.nom_court,
                                      "siren_epci": t.siren_epci, "departement": t.departement,
                                      "population_qpv": sum(q.population for q in t.qpv)} for t in territoires]),
        "vocabulaire": pd.DataFrame(vocabulaire.rows()).astype({"rang": "Int64", "mois": "Int64"}),
        "mesures": pd.DataFrame(measure_rows(config, territoires)).astype({"unite": "string", "terme": "string"}),
        **engagement_codes(config, territoires),
    }
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    with transaction(con):
        for name, frame in tables.items():
            con.register("_ref_frame", frame)
            try:
                con.execute(f"CREATE OR REPLACE TABLE ref.{name} AS SELECT * FROM _ref_frame")
            finally:
                con.unregister("_ref_frame")
