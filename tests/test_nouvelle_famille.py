"""Adding a source family is data: a vocabulary term, a contract YAML, a mart SQL and its measures SQL, the measures
in the catalogue; its section of the bilan is an entry of config/bilan.yaml and a template in config/gabarits/.
Adding an indicator whose measure exists is YAML only. This is the worked example of the README
(« Ajouter une famille de fichiers »): a toy family `ateliers`, written in temporary folders, from its inbox file to
the published measures and the referential, with no Python and no edit of the project's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import openpyxl
import pytest
from dagster import AssetKey, DagsterInstance, materialize

from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.resources import BilanSettings, warehouse
from pipelines.definitions import ALL_ASSETS, build_definitions, build_graph

CONTRAT = """\
description: "Ateliers de quartier : inscrits par atelier et par QPV, validés."

mart:
  description: "Ateliers de quartier de l'année par QPV : nombre d'ateliers tenus et d'inscrits (exemple de famille
    ajoutée par la seule configuration)."

tables:
  - table: ateliers
    cle: [atelier, code_qpv]
    colonnes:
      - {nom: atelier, obligatoire: true}
      - {nom: code_qpv, obligatoire: true, qpv: {}, alias: [qpv]}
      - {nom: inscrits, type: entier, obligatoire: true, minimum: 0, maximum: 50}
"""

MESURES = """
  # --- ateliers de quartier -------------------------------------------------------------------------------------
  - {code: ateliers.nombre, libelle: "ateliers tenus", unite: nombre, famille: ateliers, nature: moyens}
  - {code: ateliers.inscrits, libelle: "inscrits aux ateliers", unite: nombre, famille: ateliers,
     nature: resultats, perimetres: [territoire, qpv]}
"""

MART_SQL = """\
-- Workshops of $annee by QPV. The family's SQL creates its own table: schema.sql is not edited for a new family.
CREATE TABLE IF NOT EXISTS marts.ateliers (
    territoire VARCHAR, annee INTEGER, code_qpv VARCHAR, ateliers BIGINT, inscrits BIGINT);
DELETE FROM marts.ateliers WHERE annee = $annee;
INSERT INTO marts.ateliers BY NAME
SELECT territoire, $annee AS annee, code_qpv, count(*) AS ateliers, sum(inscrits) AS inscrits
FROM staging.ateliers WHERE annee_boite = $annee GROUP BY ALL;
"""

MESURES_SQL = """\
-- Measures of the workshops of $annee; units from config/mesures.yaml.
SELECT territoire, 'territoire' AS perimetre, NULL::VARCHAR AS cle, 'ateliers.nombre' AS code_mesure,
       sum(ateliers)::DOUBLE AS valeur
FROM marts.ateliers WHERE annee = $annee GROUP BY territoire
UNION ALL
SELECT territoire, 'territoire', NULL, 'ateliers.inscrits', sum(inscrits) FROM marts.ateliers WHERE annee = $annee
GROUP BY territoire
UNION ALL
SELECT territoire, code_qpv, NULL, 'ateliers.inscrits', sum(inscrits) FROM marts.ateliers WHERE annee = $annee
GROUP BY ALL
"""

INDICATEUR = """\
      - code: I1.9
        libelle: Inscrits aux ateliers de quartier
        unite: nombre
        mesure: ateliers.inscrits
        sens: hausse
        cibles: [{annee: 2027, valeur: 40}, {annee: 2030, valeur: 60}]
"""

INBOX = """\
atelier;qpv;inscrits
Couture;QN05934M;12
Jardinage;QN05936M;8
Cuisine;QN05936M;60
"""


SECTION = """\
  - code: ateliers
    titre: Les ateliers de quartier en {annee}
    gabarit: ateliers.html.j2
    tables: {ateliers: [code_qpv]}
    famille: ateliers

"""

GABARIT = """\
{# Ateliers de quartier : une partie ajoutée par la seule configuration (tables publiées et mesures de la famille). #}
<section id="{{ section.ancre }}">
  <h2>{{ section.titre }}</h2>
  {% if ateliers.absent %}<p class="absent">{{ ateliers.absent }}</p>{% else %}
  <ul class="mesures-ateliers">{% for m in ateliers.mesures %}<li>{{ m.libelle }} : {{ m.valeur }}</li>{% endfor %}</ul>
  <table><tr><th>QPV</th><th class="n">Ateliers</th><th class="n">Inscrits</th></tr>
  {% for r in ateliers.tables.ateliers %}<tr><td>{{ r.code_qpv }}</td>
    <td class="n">{{ r.ateliers }}</td><td class="n">{{ r.inscrits }}</td></tr>{% endfor %}
  </table>
  {% endif %}
</section>
"""


def _insert_after(path: Path, anchor: str, text: str) -> None:
    """Edit a YAML file as its editor would: a few lines after an existing one."""
    content = path.read_text(encoding="utf-8")
    assert content.count(anchor) == 1, anchor
    path.write_text(content.replace(anchor, anchor + text), encoding="utf-8")


def _insert_before(path: Path, anchor: str, text: str) -> None:
    content = path.read_text(encoding="utf-8")
    assert content.count(anchor) == 1, anchor
    path.write_text(content.replace(anchor, text + anchor), encoding="utf-8")


def add_family(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The project's configuration copied, plus the family `ateliers`; its SQL in a folder of its own; an inbox.
    → (config folder, SQL folder, data root)."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    _insert_after(config / "vocabulaire.yaml", '  - {code: cohortes, libelle: "suivi de cohortes des CPO"}\n',
                  '  - {code: ateliers, libelle: "ateliers de quartier"}\n')
    (config / "contrats" / "ateliers.yaml").write_text(CONTRAT, encoding="utf-8")
    with (config / "mesures.yaml").open("a", encoding="utf-8") as f:
        f.write(MESURES)
    sql = tmp_path / "sql"
    sql.mkdir()
    (sql / "ateliers.sql").write_text(MART_SQL, encoding="utf-8")
    (sql / "ateliers_mesures.sql").write_text(MESURES_SQL, encoding="utf-8")
    # its section of the bilan: an entry before the quality section, and its template
    _insert_before(config / "bilan.yaml", "  - code: qualite\n", SECTION)
    (config / "gabarits").mkdir()
    (config / "gabarits" / "ateliers.html.j2").write_text(GABARIT, encoding="utf-8")
    inbox = tmp_path / "donnees" / "inbox" / "ccco" / "2025"
    inbox.mkdir(parents=True)
    (inbox / "ateliers_2025_centres_sociaux.csv").write_text(INBOX, encoding="utf-8")
    return config, sql, tmp_path / "donnees"


def add_indicator(config: Path) -> None:
    """One more indicator in the referential, citing a measure of the catalogue: YAML only."""
    _insert_after(config / "referentiels" / "ccco.yaml", "        source: INSEE RP (chiffres clés des QP, COMPAS)\n",
                  INDICATEUR)


def test_a_new_family_is_yaml_and_sql_from_its_inbox_to_the_published_measures(tmp_path):
    config_dir, sql_dir, data_root = add_family(tmp_path)
    add_indicator(config_dir)
    config = ProjectConfig(config_dir)
    graph = build_graph(config, [sql_dir])

    # the graph has the family at every layer, drawn like the others; the project's own graph does not
    nodes = build_definitions(config, [sql_dir]).resolve_asset_graph()
    mart = nodes.get(AssetKey(["marts", "ateliers"]))
    assert mart.parent_keys == {AssetKey(["staging", "ateliers"])} and mart.group_name == "marts"
    assert mart.description.startswith("Ateliers de quartier de l'année par QPV")
    assert "Tables : marts.ateliers" in mart.description
    assert AssetKey(["sources", "ateliers"]) in nodes.get(AssetKey(["staging", "ateliers"])).parent_keys
    for downstream in (["referentiel", "mesures"], ["bilan", "bilan"]):
        assert AssetKey(["marts", "ateliers"]) in nodes.get(AssetKey(downstream)).parent_keys
    assert AssetKey(["staging", "ateliers"]) in nodes.get(AssetKey(["staging", "rapport_qualite"])).parent_keys
    assert [m.name for m in graph.marts][-1] == "ateliers" and graph.marts[-1].tables == ("ateliers",)
    assert AssetKey(["marts", "ateliers"]) not in {a.key for a in ALL_ASSETS}

    # only what the toy needs: its layers, the measures, the referential, the publication and the bilan (the
    # bilans' measures count the programmation's dossiers, so its staging table is there too, empty)
    selection = [AssetKey(p) for p in (["sources", "ateliers"], ["staging", "ateliers"], ["marts", "ateliers"],
                                       ["sources", "programmation"], ["staging", "programmation"],
                                       ["referentiel", "mesures"], ["referentiel", "referentiel"],
                                       ["publication", "tableaux"], ["bilan", "bilan"])]
    parametres = BilanSettings(racine_donnees=str(data_root), sortie=str(tmp_path / "sortie"),
                               dossier_config=str(config_dir), pdf=False)
    result = materialize([*graph.assets, *graph.checks], selection=selection, partition_key="2025",
                         instance=DagsterInstance.ephemeral(),
                         resources={"parametres": parametres, "entrepot": warehouse(parametres.warehouse_path)})
    assert result.success

    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        clean = con.execute("SELECT atelier, code_qpv, inscrits, ligne FROM staging.ateliers WHERE annee_boite = 2025 "
                            "ORDER BY ligne").fetchall()
        quarantined = con.execute("SELECT ligne, colonne, valeur, regle FROM quarantine.erreurs "
                                  "WHERE famille = 'ateliers' AND annee_boite = 2025").fetchall()
        marts = con.execute("SELECT code_qpv, ateliers, inscrits FROM marts.ateliers WHERE annee = 2025 "
                            "ORDER BY code_qpv").fetchall()
        measures = con.execute("SELECT code_mesure, perimetre, valeur, unite, annee_donnees FROM referentiel.mesures "
                               "WHERE annee = 2025 AND source = 'marts/ateliers' ORDER BY 1, 2").fetchall()
        indicator = con.execute("SELECT valeur, unite, mesure, statut FROM referentiel.indicateurs "
                                "WHERE annee = 2025 AND code_indicateur = 'I1.9'").fetchall()
    assert clean == [("Couture", "QN05934M", 12, 2), ("Jardinage", "QN05936M", 8, 3)]
    assert quarantined == [(4, "inscrits", "60", "valeur_maximale")]
    assert marts == [("QN05934M", 1, 12), ("QN05936M", 1, 8)]
    assert measures == [("ateliers.inscrits", "QN05934M", 12.0, "nombre", 2025),
                        ("ateliers.inscrits", "QN05936M", 8.0, "nombre", 2025),
                        ("ateliers.inscrits", "territoire", 20.0, "nombre", 2025),
                        ("ateliers.nombre", "territoire", 2.0, "nombre", 2025)]
    # the indicator added to the referential gets its value from the new measure
    assert indicator == [(20.0, "nombre", "ateliers.inscrits", "en retard")]

    # the mart is published as it is (its contract names no table to keep back), and the bilan has its section:
    # in the contents, in the order config/bilan.yaml gives, with the template's table and the family's measures
    with duckdb.connect(str(parametres.warehouse_path), read_only=True) as con:
        published = con.execute("SELECT code_qpv, ateliers, inscrits FROM publication.ateliers WHERE annee = 2025 "
                                "ORDER BY code_qpv").fetchall()
    assert published == marts
    html = (tmp_path / "sortie" / "2025" / "ccco" / "bilan_ccco_2025.html").read_text(encoding="utf-8")
    assert '<li><a href="#ateliers">Les ateliers de quartier en 2025</a></li>' in html
    section = html[html.index('<section id="ateliers">'):]
    section = section[:section.index("</section>")]
    assert "<h2>Les ateliers de quartier en 2025</h2>" in section
    assert "<li>inscrits aux ateliers : 20</li>" in section and "<li>ateliers tenus : 2</li>" in section
    assert '<tr><td>QN05934M</td>\n    <td class="n">1</td><td class="n">12</td></tr>' in section
    assert html.index('id="ateliers"') < html.index('id="qualite"') and html.index('id="cohortes"') < html.index(
        'id="ateliers"')
    # the XLSX annex shows the table a section reads, with its columns as they are
    annex = openpyxl.load_workbook(tmp_path / "sortie" / "2025" / "ccco" / "bilan_ccco_2025_annexe.xlsx",
                                   read_only=True)
    rows = list(annex["ateliers"].iter_rows(values_only=True))
    assert rows[0][:5] == ("territoire", "annee", "code_qpv", "ateliers", "inscrits")
    assert [r[2:5] for r in rows[1:]] == [("QN05934M", 1, 12), ("QN05936M", 1, 8)]


def test_an_indicator_whose_measure_exists_is_yaml_only(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    add_indicator(config)
    # the measure is not in the project's catalogue: the referential is refused, naming the file and the key
    with pytest.raises(ConfigurationError, match=r"ccco\.yaml.*\n.*indicateurs\.\d+\.mesure.*I1\.9.*ateliers"):
        assert ProjectConfig(config).territoires is None  # never reached: loading raises
    # once the catalogue has it, the same YAML loads
    with (config / "mesures.yaml").open("a", encoding="utf-8") as f:
        f.write(MESURES)
    _insert_after(config / "vocabulaire.yaml", '  - {code: cohortes, libelle: "suivi de cohortes des CPO"}\n',
                  '  - {code: ateliers, libelle: "ateliers de quartier"}\n')
    (config / "contrats" / "ateliers.yaml").write_text(CONTRAT, encoding="utf-8")
    referentiel = ProjectConfig(config).referentiel("ccco")
    assert ProjectConfig(config).territoires["ccco"]
    assert [i.code for _, i in referentiel.indicateurs if i.mesure == "ateliers.inscrits"] == ["I1.9"]


def test_a_mart_sql_names_its_tables_and_its_family(tmp_path):
    config_dir, sql_dir, _ = add_family(tmp_path)
    (sql_dir / "ateliers.sql").write_text(MART_SQL.replace("staging.ateliers", "staging.ateliers_2024"),
                                          encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"ateliers\.sql : table\(s\) de staging sans contrat : "
                                                 r"staging\.ateliers_2024"):
        build_graph(ProjectConfig(config_dir), [sql_dir])
    (sql_dir / "ateliers.sql").write_text(MART_SQL, encoding="utf-8")
    (sql_dir / "inconnue.sql").write_text(MART_SQL, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"sans famille dans vocabulaire\.yaml.*inconnue\.sql"):
        build_graph(ProjectConfig(config_dir), [sql_dir])
    (sql_dir / "inconnue.sql").unlink()
    contrat = config_dir / "contrats" / "ateliers.yaml"
    contrat.write_text(CONTRAT[:CONTRAT.index("mart:")] + CONTRAT[CONTRAT.index("tables:"):], encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"ateliers\.yaml.*\n.*clé `mart` : section absente"):
        build_graph(ProjectConfig(config_dir), [sql_dir])
