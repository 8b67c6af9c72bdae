"""Everything one bilan shows, read once from the warehouse's `publication` schema only (secrecy applied there,
assets/publication/): measures, referential, the year's files and their quality, and the published tables its
sections declare (config/bilan.yaml). Sections only format what is here, so each figure has one source."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import duckdb
import pandas as pd

from core.config.bilan import FeuilleAnnexe, Section
from core.config.decisions import Decisions
from core.config.projet import ProjectConfig
from core.config.referentiel import Orientations
from core.config.settings import Rendu
from core.config.territoire import RapportAnnuel, Territoire
from core.config.vocabulaire import Vocabulaire
from core.warehouse import table_exists


@dataclass
class BilanData:
    territoire: Territoire
    annee: int
    referentiel_version: str
    run_id: str
    genere_le: str
    families_present: dict[str, bool]
    measures: pd.DataFrame            # publication.mesures: `valeur` empty where `secret` says what is shown
    measures_before: pd.DataFrame
    referentiel: pd.DataFrame
    axes: list[dict]
    tables: dict[str, pd.DataFrame]   # the published tables the sections declare, the territory's rows of the year
    qualite: pd.DataFrame
    erreurs_par_regle: pd.DataFrame
    fichiers_manquants: list[str]
    sources: pd.DataFrame
    qpv: pd.DataFrame
    vocabulaire: Vocabulaire                # labels of codes: vocabulaire.libelles(domaine)
    controles: pd.DataFrame = field(default_factory=pd.DataFrame)
    secret: dict = field(default_factory=dict)
    rejets: pd.DataFrame = field(default_factory=pd.DataFrame)  # publication.mesures_rejets: reports/rejets.py
    seuils: dict = field(default_factory=dict)
    glossaire: list[dict] = field(default_factory=list)   # config/glossaire.yaml, sorted
    regles: dict[str, str] = field(default_factory=dict)  # contract rule → its French description
    libelles_mesures: dict[str, str] = field(default_factory=dict)  # measure code → label (config/mesures.yaml)
    rendu: Rendu = field(default_factory=Rendu)  # how much of a long list the body shows (reports/plafonds.py)
    sections: list[Section] = field(default_factory=list)  # the bilan's parts, in order (config/bilan.yaml)
    annexe: list[FeuilleAnnexe] = field(default_factory=list)  # the XLSX annex's sheets (config/bilan.yaml)
    decisions: Decisions | None = None  # the last COPIL's decisions and their follow-up (config/decisions/)
    orientations: Orientations | None = None  # who carries the proposals, the needs indicators (referential YAML)
    rapport_annuel: RapportAnnuel | None = None  # the year's annual report: draft or final (territory YAML)
    contributions: list[dict] = field(default_factory=list)  # the opinions received on its draft, read from disk
    # what the last COPIL was shown: last year's bilan as published before that COPIL (publication.bilans_montres),
    # and last year's referential as published now (late or corrected files revise it)
    copil_precedent: dt.date | None = None
    montre_au_copil: pd.DataFrame = field(default_factory=pd.DataFrame)
    montre_le: str | None = None
    referentiel_avant: pd.DataFrame = field(default_factory=pd.DataFrame)
    familles_mesures: dict[str, str] = field(default_factory=dict)  # measure code → its family (config/mesures.yaml)
    # the referential's transversal axes, each with the objectives that serve it
    transversaux: list[dict] = field(default_factory=list)
    # the complementary quartiers' outlines the territory declares (<données>/contours/<territoire>/): code →
    # GeoJSON features, or the error that keeps one from the map
    contours_complementaires: dict[str, list | str] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """A published table a section declares in config/bilan.yaml (empty when not published this year)."""
        if name not in self.tables:
            raise KeyError(f"la table publiée « {name} » n'est lue par aucune partie du bilan (config/bilan.yaml, "
                           f"clé `tables` : {', '.join(sorted(self.tables))})")
        return self.tables[name]

    def famille_mesures(self, famille: str) -> list[str]:
        """The measures of one family, in the catalogue's order."""
        return [code for code, f in self.familles_mesures.items() if f == famille]

    def m(self, code: str, perimetre: str = "territoire", cle: str | None = None, before: bool = False):
        """A measure's published value (the first row of its code, perimeter and key; None when hidden or absent)."""
        return (self._values_before if before else self._values).get((code, perimetre, cle or None))

    def unite(self, code: str) -> str | None:
        """A measure's unit, as the catalogue (config/mesures.yaml) gave it to the published row."""
        return self._units.get(code)

    def keyed(self, code: str, perimetre: str = "territoire") -> dict[str, float]:
        """A measure's values by key (cle) for one perimeter."""
        return dict(self._keyed.get((code, perimetre), {}))

    # the sections look measures up hundreds of times a bilan: the frames are indexed once (a boolean filter of
    # the whole frame per lookup was a third of a bilan's rendering time)
    @cached_property
    def _values(self) -> dict[tuple[str, str, str | None], float | None]:
        return _first_values(self.measures)

    @cached_property
    def _values_before(self) -> dict[tuple[str, str, str | None], float | None]:
        return _first_values(self.measures_before)

    @cached_property
    def _units(self) -> dict[str, str | None]:
        if self.measures.empty:
            return {}
        first = self.measures.drop_duplicates("code_mesure", keep="first")
        return dict(zip(first["code_mesure"], first["unite"]))

    @cached_property
    def _keyed(self) -> dict[tuple[str, str], dict[str, float]]:
        frame = self.measures
        if frame.empty:
            return {}
        rows = frame[frame["cle"].notna() & frame["valeur"].notna()]
        out: dict[tuple[str, str], dict[str, float]] = {}
        for (code, perimetre), group in rows.groupby(["code_mesure", "perimetre"], sort=False):
            out[(code, perimetre)] = dict(zip(group["cle"], group["valeur"].astype(float)))
        return out


def _first_values(frame: pd.DataFrame) -> dict[tuple[str, str, str | None], float | None]:
    """(code, perimeter, key or None) → the value of its first row, None when that row's value is hidden."""
    if frame.empty:
        return {}
    first = frame.drop_duplicates(["code_mesure", "perimetre", "cle"], keep="first")
    keys = first["cle"].astype(object).where(first["cle"].notna(), None)
    values = first["valeur"].astype(object).where(first["valeur"].notna(), None)
    return {(c, p, k): (None if v is None else float(v))
            for c, p, k, v in zip(first["code_mesure"], first["perimetre"], keys, values)}


def _df(con, schema: str, table: str, sql: str, params: list) -> pd.DataFrame:
    if not table_exists(con, schema, table):
        return pd.DataFrame()
    return con.execute(sql, params).df()


def _shown(frame: pd.DataFrame, config: ProjectConfig, territoire: Territoire) -> pd.DataFrame:
    """A table's rows the bilan shows: not an indicator the catalogue keeps for the annex only (`affiche: false`)."""
    if "code_indicateur" not in frame.columns or frame.empty:
        return frame
    hidden = [i.code for i in config.catalogue(territoire.catalogue_indicateurs).indicateurs if not i.affiche]
    return frame[~frame["code_indicateur"].isin(hidden)]


def _section_tables(con, config: ProjectConfig, territoire: Territoire, annee: int) -> dict[str, pd.DataFrame]:
    """Each published table the sections declare: the territory's rows of the year, in the declared order."""
    out = {}
    for name, order in config.bilan.tables().items():
        by = ", ".join(order) if order else "ALL"
        out[name] = _shown(_df(con, "publication", name, f"SELECT * FROM publication.{name} WHERE territoire = ? "
                               f"AND annee = ? ORDER BY {by}", [territoire.code, annee]), config, territoire)
    return out


def _present(quality: pd.DataFrame, tables: dict[str, pd.DataFrame], config: ProjectConfig) -> dict[str, bool]:
    """Whether each family can make its sections: a file accepted in the year's box, or, for a follow-up rebuilt
    from every year's boxes (cohorts), rows of the year in the tables its section names (`presente_avec`)."""
    accepted = set(quality.loc[quality["statut"] == "accepte", "famille"]) if len(quality) else set()
    return {f: f in accepted or any(len(tables.get(t, ())) for t in config.bilan.presente_avec(f))
            for f in config.vocabulaire.codes("familles")}


def _contributions(data_root: Path | None, territoire: Territoire, rapport: RapportAnnuel | None) -> list[dict]:
    """Each contribution to the draft report as the annex shows it: a text file's text, a PDF's path (copied beside
    the bilan), and the SHA-256 of the file that was read; a file not found is said, not fatal."""
    if rapport is None or data_root is None:
        return []
    folder = data_root / "contributions" / territoire.code / str(rapport.annee_bilan)
    out = []
    for c in rapport.contributions:
        path = folder / c.fichier
        raw = path.read_bytes() if path.is_file() else None
        pdf = path.suffix.lower() == ".pdf"
        out.append({"auteur": c.auteur, "recue_le": c.recue_le.strftime("%d/%m/%Y"), "fichier": c.fichier,
                    "chemin": str(path), "suite": c.suite.strip(), "manquant": raw is None, "pdf": pdf,
                    "sha256": hashlib.sha256(raw).hexdigest() if raw is not None else None,
                    "texte": None if raw is None or pdf else raw.decode("utf-8", errors="replace").strip()})
    return out


def _shown_at_copil(con, territoire: Territoire, annee: int) -> tuple[dt.date | None, pd.DataFrame, str | None]:
    """(the COPIL that examined last year's bilan, what that bilan showed — the last version published by the
    COPIL's day —, when that version was published); nothing shown when no version was published by then."""
    copil = next((c.date for c in territoire.copil if c.annee_bilan == annee - 1), None)
    if copil is None or not table_exists(con, "publication", "bilans_montres"):
        return copil, pd.DataFrame(), None
    version = con.execute("SELECT empreinte_contenu, max(publie_le) FROM publication.bilans_montres WHERE "
                          "territoire = ? AND annee = ? AND publie_le < ? GROUP BY ALL ORDER BY 2 DESC LIMIT 1",
                          [territoire.code, annee - 1, copil + dt.timedelta(days=1)]).fetchall()
    if not version:
        return copil, pd.DataFrame(), None
    rows = con.execute("SELECT nature, code, libelle, unite, valeur, statut, seuil, annee_donnees FROM "
                       "publication.bilans_montres WHERE territoire = ? AND annee = ? AND empreinte_contenu = ? "
                       "ORDER BY nature, code", [territoire.code, annee - 1, version[0][0]]).df()
    return copil, rows, pd.Timestamp(version[0][1]).strftime("%d/%m/%Y")


def _contours(data_root: Path | None, territoire: Territoire) -> dict[str, list | str]:
    """Each declared outline of a complementary quartier, read from <données>/contours/<territoire>/: its features,
    or why it cannot be drawn (missing, unreadable, not polygons)."""
    out: dict[str, list | str] = {}
    for q in territoire.quartiers_complementaires:
        if q.contour is None:
            continue
        path = (data_root / "contours" / territoire.code / q.contour) if data_root else None
        if path is None or not path.is_file():
            out[q.code] = f"fichier « {q.contour} » introuvable dans contours/{territoire.code}/"
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            features = document["features"] if document.get("type") == "FeatureCollection" else [document]
            shapes = [f for f in features if f.get("geometry", {}).get("type") in ("Polygon", "MultiPolygon")]
        except (ValueError, AttributeError, KeyError, TypeError) as exc:
            out[q.code] = f"fichier « {q.contour} » illisible ({type(exc).__name__}) : un GeoJSON est attendu"
            continue
        if not shapes:
            out[q.code] = f"fichier « {q.contour} » sans polygone"
            continue
        out[q.code] = [{"type": "Feature", "geometry": f["geometry"], "properties": {"code": q.code, "nom": q.nom}}
                       for f in shapes]
    return out


def load_bilan_data(con: duckdb.DuckDBPyConnection, config: ProjectConfig, territoire: Territoire, annee: int,
                    run_id: str, data_root: Path | None = None) -> BilanData:
    t, a = territoire.code, annee
    quality = _df(con, "publication", "qualite_fichiers",
                  "SELECT * FROM publication.qualite_fichiers WHERE territoire = ? AND annee_boite = ? "
                  "ORDER BY famille, fichier", [t, a])
    tables = _section_tables(con, config, territoire, a)
    present = _present(quality, tables, config)
    referentiel = config.referentiel(territoire.referentiel)
    ref_rows = _df(con, "publication", "referentiel", "SELECT * FROM publication.referentiel WHERE territoire = ? "
                   "AND annee = ? ORDER BY question, code_indicateur", [t, a])
    axes = [{"code": ax.code, "intitule": ax.intitule,
             "objectifs": [{"code": o.code, "intitule": o.intitule} for o in ax.objectifs]} for ax in referentiel.axes]
    erreurs = _df(con, "publication", "erreurs", "SELECT fichier, regle, gravite, count(*) AS n "
                  "FROM publication.erreurs WHERE territoire = ? AND annee_boite = ? GROUP BY ALL "
                  "ORDER BY fichier, n DESC, regle, gravite", [t, a])
    declared = config.mesures.declarees(config.vocabulaire, config.catalogue(territoire.catalogue_indicateurs))
    copil_before, shown, shown_on = _shown_at_copil(con, territoire, a)
    return BilanData(
        territoire=territoire, annee=a, referentiel_version=referentiel.version, run_id=run_id,
        genere_le=dt.date.today().strftime("%d/%m/%Y"), families_present=present,
        measures=_df(con, "publication", "mesures",
                     "SELECT * FROM publication.mesures WHERE territoire = ? AND annee = ? ORDER BY ALL",
                     [t, a]),
        measures_before=_df(con, "publication", "mesures", "SELECT * FROM publication.mesures WHERE territoire = ? "
                            "AND annee = ? ORDER BY ALL", [t, a - 1]),
        referentiel=ref_rows, axes=axes,
        transversaux=[{"code": x.code, "intitule": x.intitule,
                       "objectifs": [o.code for a in referentiel.axes for o in a.objectifs if x.code in o.transversaux]}
                      for x in referentiel.axes_transversaux],
        tables=tables,
        qualite=quality,
        erreurs_par_regle=erreurs,
        fichiers_manquants=[f"{family} — {who}" for family, who in _df(
            con, "publication", "fichiers_manquants", "SELECT famille, attendu FROM publication.fichiers_manquants "
            "WHERE territoire = ? AND annee = ? ORDER BY rang", [t, a]).itertuples(index=False)],
        sources=_df(con, "publication", "sources", "SELECT famille, annee, nom_fichier, version, sha256, origine, "
                    "depose_le FROM publication.sources WHERE territoire = ? AND annee <= ? AND actif "
                    "ORDER BY annee, famille, nom_fichier", [t, a]),
        qpv=pd.DataFrame([{"code_qpv": q.code, "nom_qpv": q.nom, "population": q.population,
                           "communes": q.communes, "partage": q.partage.model_dump() if q.partage else None}
                          for q in territoire.qpv]),
        controles=_df(con, "publication", "controles", "SELECT actif, controle, description, message, problemes, "
                      "detail FROM publication.controles WHERE annee = ? AND territoire = ? AND NOT reussi "
                      "AND NOT bloquant ORDER BY actif, controle", [a, t]),
        rejets=_df(con, "publication", "mesures_rejets", "SELECT code_mesure, perimetre, cle, lignes_rejetees, "
                   "montant_rejete, lignes FROM publication.mesures_rejets WHERE territoire = ? AND annee = ? "
                   "ORDER BY ALL", [t, a]),
        secret=config.settings.secret_statistique.model_dump(),
        seuils=config.settings.seuils.model_dump(),
        rendu=config.settings.rendu,
        vocabulaire=config.vocabulaire,
        glossaire=[s.model_dump() for s in config.glossaire.tries()],
        regles={code: r.description for f in config.contrats.familles for code, r in config.contrats.regles(f).items()},
        libelles_mesures={code: m.libelle for code, m in declared.items()},
        familles_mesures={code: m.famille for code, m in declared.items() if m.famille},
        sections=list(config.bilan.sections), annexe=list(config.bilan.annexe),
        # the COPIL that examined last year's bilan decided them; this bilan says what came of them
        decisions=config.decisions(t, a - 1), orientations=referentiel.orientations,
        rapport_annuel=(rapport := next((r for r in territoire.rapports_annuels if r.annee_bilan == a), None)),
        contributions=_contributions(data_root, territoire, rapport),
        contours_complementaires=_contours(data_root, territoire),
        copil_precedent=copil_before, montre_au_copil=shown, montre_le=shown_on,
        referentiel_avant=_df(con, "publication", "referentiel", "SELECT * FROM publication.referentiel WHERE "
                              "territoire = ? AND annee = ? ORDER BY question, code_indicateur", [t, a - 1]),
    )
