"""config/settings.yaml: the settings every territory shares (reference geography, pseudonymisation, secrecy,
limits of a deposited file, thresholds, schedule, warehouse, rendering, years)."""

from __future__ import annotations

from pydantic import Field

from core.config.base import StrictModel


class ContoursCommunes(StrictModel):
    """The commune contours drawn around the QPV on the bilan's maps: an external source like the QPV layer."""

    adresse_officielle: str
    url_telechargement: str | None = Field(None, pattern=r"^https://")
    fichier_local: str | None = Field(None, pattern=r"\.(geojson|json)(\.gz)?$|\.zip$")


class GeographieReference(StrictModel):
    adresse_officielle: str
    url_telechargement: str | None = None
    fichier_local: str | None = None
    delai_telechargement_s: float = 20
    contours_communes: ContoursCommunes | None = None


class SourceReference(StrictModel):
    """One file of a national reference: an external source, read from a local copy or downloaded, never
    committed."""

    url_telechargement: str | None = Field(None, pattern=r"^https://")
    fichier_local: str | None = Field(None, pattern=r"\.json(\.gz)?$")


class DecoupageAdministratif(StrictModel):
    """The EPCI with their SIREN, type and member communes, and the communes with their INSEE code, name and
    population (Etalab's « découpage administratif », INSEE's COG): what a territory is checked against and
    scaffolded from."""

    adresse_officielle: str
    millesime: int
    epci: SourceReference
    communes: SourceReference
    delai_telechargement_s: float = 20


class Pseudonymisation(StrictModel):
    variable_cle: str = "BILAN_CLE_PSEUDONYMISATION"  # the key itself
    variable_fichier_cle: str = "BILAN_CLE_PSEUDONYMISATION_FICHIER"  # or the path of a file holding it


class SecretStatistique(StrictModel):
    effectif_minimal: int = Field(5, ge=1)
    denominateur_minimal: int = Field(10, ge=1)


class Planification(StrictModel):
    jours_avant_copil: int = Field(21, ge=1, le=120)
    stabilite_fichier_s: float = Field(60, ge=0)
    date_bilan_annuel: str = Field("02-01", pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class Portail(StrictModel):
    """The deposit portal (`bilan portail`): how long a partner's link lasts, when the campaign closes (the COPIL's
    date less this many days), how many requests a link may make per minute."""

    validite_invitation_jours: int = Field(120, ge=1, le=730)
    delai_avant_copil_jours: int = Field(30, ge=0, le=180)
    requetes_par_minute: int = Field(30, ge=1)


class Limites(StrictModel):
    """Bounds on one partner file, checked before it is parsed, so that one file cannot take the run down."""

    taille_fichier_mo: float = Field(50, gt=0)
    xlsx_decompresse_mo: float = Field(50, gt=0)
    xlsx_ratio_compression: float = Field(100, gt=1)
    lignes: int = Field(500_000, ge=1)
    colonnes: int = Field(300, ge=1)
    longueur_cellule: int = Field(32_767, ge=1)


class EntrepotReglages(StrictModel):
    """Runs that share a warehouse: the second one waits for the first at most this long, then stops."""

    attente_verrou_s: float = Field(900, ge=0)
    # DuckDB's memory_limit and threads for the warehouse and the render snapshots (None: DuckDB's defaults)
    memoire_max: str | None = Field(None, pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    fils: int | None = Field(None, ge=1)

    def duckdb(self) -> dict[str, str | int]:
        """The settings for duckdb.connect(config=…)."""
        out: dict[str, str | int] = {}
        if self.memoire_max:
            out["memory_limit"] = self.memoire_max
        if self.fils:
            out["threads"] = self.fils
        return out


class Rendu(StrictModel):
    """How the bilans are rendered: territories go to the render steps in batches (one Chromium per batch); with
    Dagster's multiprocess executor (`bilan run --processus N`, job `bilans_en_parallele`) the batches run side by
    side, each in its own process. And how much of a long list the bilan's body shows."""

    territoires_par_lot: int = Field(25, ge=1)
    # at least this many batches when there are enough territories: every process gets work on a small run too
    lots_minimum: int = Field(2, ge=1)
    # the bilan's body never grows with the partners' files: past these caps, the first items in an order the bilan
    # names and « … et N autres (voir l'annexe XLSX) » (reports/plafonds.py); the XLSX annex keeps every row
    elements_par_graphique: int = Field(30, ge=1)  # bars, lines or points of a chart
    lignes_par_tableau: int = Field(60, ge=1)  # rows of a table
    colonnes_par_tableau: int = Field(8, ge=1)  # items set side by side as columns (the landlords by axis)
    elements_par_liste: int = Field(20, ge=1)  # items listed in a sentence or a cell (an alert's, a check's)
    # a quartier's page of the territory's bilan: its largest actions, the others counted (the commune bilans and
    # the annex list them all, up to `lignes_par_tableau`): a bilan's length does not grow with the programming
    actions_par_quartier: int = Field(5, ge=1)
    # and its key indicators: the referential's needs indicators, then those its evaluative questions cite (the
    # commune bilan gives them all): with its map, credits and TFPB, a quartier holds on one page
    indicateurs_par_quartier: int = Field(6, ge=1)
    # past this many quartiers, the territory's bilan gives them as one table (a page each would outgrow what a
    # COPIL reads: a metropolis has 60); each quartier's page is in the bilan of its commune
    quartiers_en_pages: int = Field(12, ge=1)


class Seuils(StrictModel):
    """Thresholds the bilan draws and flags with, in % (said here, not in the report code)."""

    alerte_realisation_engagement: float = Field(80, ge=0)  # an engagement achieved below this is flagged
    couverture_tfpb: float = Field(100, ge=0)  # coverage of the TFPB abatement expected from landlords
    part_cpo_visee: float = Field(50, ge=0, le=100)  # share of CPO the national circular aims at
    # written synthesis: a smaller change since last year is called "stable" (in %, or a fifth of it in points)
    evolution_notable: float = Field(5, ge=0)
    # a count that was smaller than this last year changes by units, not by percent (1 → 3 is « +2 », not
    # « +200 % »)
    base_minimale_pourcentage: float = Field(20, ge=0)


class Settings(StrictModel):
    geographie_reference: GeographieReference
    decoupage_administratif: DecoupageAdministratif | None = None
    limites: Limites = Limites()
    planification: Planification = Planification()
    pseudonymisation: Pseudonymisation = Pseudonymisation()
    secret_statistique: SecretStatistique = SecretStatistique()
    tolerance_ratio_points: float = Field(0.1, ge=0)
    seuils: Seuils = Seuils()
    entrepot: EntrepotReglages = EntrepotReglages()
    rendu: Rendu = Rendu()
    portail: Portail = Portail()
    annees: list[int]
