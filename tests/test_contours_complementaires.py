"""A complementary quartier's outline (territory YAML `contour`, a GeoJSON in <données>/contours/<territoire>/): read
when it is there and holds polygons, otherwise the bilan says why it is not drawn (issue 31, item 6)."""

from __future__ import annotations

import json

from reports.data import _contours
from tests.conftest import config_copy

POCHES = ('quartiers_complementaires:\n'
          '  - {code: PP-LEWARDE, type: poche_pauvrete, nom: Lewarde, communes: ["59345"], population: 600, '
          'contour: lewarde.geojson}\n'
          '  - {code: PP-LOFFRE, type: veille_active, nom: Loffre, communes: ["59354"], population: 300, '
          'contour: loffre.json}\n'
          '  - {code: PP-ERRE, type: quartier_vecu, nom: Erre, communes: ["59203"], population: 200, '
          'contour: erre.geojson}\n'
          '  - {code: PP-VRED, type: quartier_vecu, nom: Vred, communes: ["59629"], population: 200}\n')
SQUARE = {"type": "Polygon", "coordinates": [[[3.2, 50.3], [3.21, 50.3], [3.21, 50.31], [3.2, 50.3]]]}


def test_each_outline_is_read_or_said_missing(tmp_path):
    config = config_copy(tmp_path, {"territoires/ccco.yaml": ("niveaux_comparaison:\n",
                                                              POCHES + "niveaux_comparaison:\n")})
    folder = tmp_path / "donnees" / "contours" / "ccco"
    folder.mkdir(parents=True)
    (folder / "lewarde.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": SQUARE},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Point", "coordinates": [3.2, 50.3]}}]}))
    (folder / "loffre.json").write_text("{pas du json")
    contours = _contours(tmp_path / "donnees", config.territoire("ccco"))
    assert [f["properties"] for f in contours["PP-LEWARDE"]] == [{"code": "PP-LEWARDE", "nom": "Lewarde"}]
    assert contours["PP-LOFFRE"] == "fichier « loffre.json » illisible (JSONDecodeError) : un GeoJSON est attendu"
    assert contours["PP-ERRE"] == "fichier « erre.geojson » introuvable dans contours/ccco/"
    assert "PP-VRED" not in contours                                       # no outline declared: nothing to say
    (folder / "erre.geojson").write_text(json.dumps({"type": "Feature", "geometry": {"type": "LineString",
                                                                                     "coordinates": []}}))
    assert _contours(tmp_path / "donnees", config.territoire("ccco"))["PP-ERRE"] == \
        "fichier « erre.geojson » sans polygone"
