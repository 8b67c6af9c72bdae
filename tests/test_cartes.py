"""Maps a mayor can read: the QPV over their communes (named), the EPCI's outline, a scale bar, a legend in classes
that prints; the commune contours are an external source named in the settings."""

from __future__ import annotations

import gzip
import json
import re
import shutil

import pytest
import yaml

from core.config.base import PROJECT_ROOT, ConfigurationError
from core.config.projet import ProjectConfig
from core.reference import load_reference
from reports import charts


def _square(x0: float, y0: float, side: float) -> dict:
    ring = [[x0, y0], [x0 + side, y0], [x0 + side, y0 + side], [x0, y0 + side], [x0, y0]]
    return {"type": "Polygon", "coordinates": [ring]}


def _communes() -> list[dict]:
    # two communes side by side sharing the border x = 3.1 (about 7 km wide each at 50°N)
    return [{"type": "Feature", "geometry": _square(3.0, 50.0, 0.1), "properties": {"code": "59001", "nom": "Aval"}},
            {"type": "Feature", "geometry": _square(3.1, 50.0, 0.1), "properties": {"code": "59002", "nom": "Amont"}}]


def _qpv(value_a: float | None = 12.0, value_b: float | None = 80.0) -> list[dict]:
    return [{"type": "Feature", "geometry": _square(3.02, 50.02, 0.02),
             "properties": {"code": "QN05901M", "nom": "Les Tilleuls", "v": value_a}},
            {"type": "Feature", "geometry": _square(3.15, 50.05, 0.02),
             "properties": {"code": "QN05902M", "nom": "Le Moulin", "v": value_b}}]


def test_epci_outline_keeps_only_the_outer_border():
    outline = charts.outline(_communes())["geometry"]["coordinates"]
    assert len(outline) == 6  # 4 + 4 sides, less the shared one counted on both communes
    assert not any(a[0] == b[0] == 3.1 for a, b in outline)


def test_scale_bar_has_a_round_length_in_kilometres():
    bar, label = charts.scale_bar(_communes())
    (x0, _), (x1, _) = bar["geometry"]["coordinates"]
    km = (x1 - x0) * 111.32 * 0.6428  # cos(50°)
    assert label["texte"] == "5 km" and km == pytest.approx(5, rel=0.01)


def test_classes_are_round_and_labelled_in_french():
    bounds, labels = charts.classes([12.0, 80.0, None])
    assert bounds == [20, 40, 60, 80]  # 80 / 4 classes, already round
    assert labels[0] == "0 à 20\u00a0€" and labels[-1] == "60 à 80\u00a0€"
    assert charts.classes([7.3])[0] == [2, 4, 6, 8]  # 7.3 / 4 = 1.8 rounded up to 2


def test_choropleth_draws_communes_names_scale_and_a_printable_legend():
    svg = charts.qpv_map(_qpv(value_b=None), "Crédits par habitant", "test", value="v", value_title="€ par habitant",
                         communes=_communes())
    text = re.sub(r"<[^>]+>", " ", svg)
    assert "Aval" in text and "Amont" in text and "5 km" in text
    assert "0 à 5\u00a0€" in text and "non renseigné" in text  # 12 € / 4 classes → steps of 5 €
    # a gradient legend is what WeasyPrint left blank: the legend is one swatch per class
    assert "linearGradient" not in svg
    for colour in charts.CLASS_COLOURS[:1] + ["#d9d9d9"]:
        assert colour in svg.lower()


def test_qpv_page_map_is_at_least_half_the_text_width():
    svg = charts.qpv_map(_qpv(), "Les Tilleuls dans le territoire", "test", highlight="QN05901M",
                         communes=_communes())
    width = float(re.search(r'<svg[^>]*\bwidth="([\d.]+)"', svg)[1])
    assert width * 25.4 / 96 >= 180 / 2  # px at 96 dpi against half the A4 text block (180 mm)
    assert "Aval" in svg and "#D55E00".lower() in svg.lower()


def _config_copy(tmp_path, contours: dict | None):
    target = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", target)
    settings = yaml.safe_load((target / "settings.yaml").read_text())
    national = PROJECT_ROOT.parent / "shared/reference/qpv-2024.geojson.gz"
    settings["geographie_reference"]["fichier_local"] = str(national)
    settings["geographie_reference"]["contours_communes"] = contours
    (target / "settings.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True))
    return target


def test_commune_contours_are_read_from_the_file_the_settings_name(tmp_path):
    # the national layer the settings name (../shared/reference/, beside the project on every machine)
    assert (PROJECT_ROOT.parent / "shared/reference/qpv-2024.geojson.gz").is_file()
    layer = tmp_path / "communes.geojson.gz"
    layer.write_bytes(gzip.compress(json.dumps({"type": "FeatureCollection", "features": _communes()}).encode()))
    cfg = _config_copy(tmp_path, {"adresse_officielle": "https://geoservices.ign.fr/adminexpress",
                                  "fichier_local": str(layer)})
    reference = load_reference(ProjectConfig(cfg))
    assert reference is not None
    features = reference.commune_features(["59002", "59999", "59001"])
    assert [f["properties"]["nom"] for f in features] == ["Amont", "Aval"]


def test_commune_contours_are_parsed_once_into_the_cache_and_read_without_it(tmp_path, monkeypatch):
    """The layer is parsed once into a DuckDB table of the cache, where later reads find only the communes asked
    for; a changed source is parsed again; with no writable cache the layer is read in the process."""
    from core import reference

    layer = tmp_path / "communes.geojson.gz"
    layer.write_bytes(gzip.compress(json.dumps({"type": "FeatureCollection", "features": _communes()}).encode()))
    monkeypatch.setattr(reference, "CACHE_DIR", tmp_path / "cache")
    source = (str(layer), None, 1.0)
    first = reference._communes_of(source, ("59002", "59999"))
    assert list(first) == ["59002"] and first["59002"].nom == "Amont"
    cached = list((tmp_path / "cache").glob("contours_communes_*.duckdb"))
    assert len(cached) == 1
    reference._load_communes.cache_clear()
    monkeypatch.setattr(reference, "_parse_communes", lambda data: pytest.fail("parsed again"))
    assert reference._communes_of(source, ("59001", "59002")).keys() == {"59001", "59002"}  # from the table
    assert reference._communes_of(source, ("59001",))["59001"].geometry == _square(3.0, 50.0, 0.1)
    monkeypatch.undo()

    layer.write_bytes(gzip.compress(json.dumps({"type": "FeatureCollection", "features": _communes()[:1]}).encode()))
    monkeypatch.setattr(reference, "CACHE_DIR", tmp_path / "cache")
    assert reference._communes_of(source, ("59001", "59002")).keys() == {"59001"}   # a new source, a new table
    assert len(list((tmp_path / "cache").glob("contours_communes_*.duckdb"))) == 2

    blocked = tmp_path / "pas_un_dossier"
    blocked.write_text("")                                # the cache cannot be created under a file
    monkeypatch.setattr(reference, "CACHE_DIR", blocked / "cache")
    assert reference._communes_of(source, ("59001",)).keys() == {"59001"}


def test_commune_contours_setting_is_validated(tmp_path):
    cfg = _config_copy(tmp_path, {"adresse_officielle": "https://geoservices.ign.fr/adminexpress",
                                  "fichier_local": "communes.csv"})
    with pytest.raises(ConfigurationError, match="contours_communes"):
        assert ProjectConfig(cfg).settings is None  # never reached: loading the settings raises


def test_a_name_that_would_overlap_a_larger_commune_s_is_left_out():
    """Issue 30, item 5: « Wavrechain-sous-Denain » written over « Denain » helped no reader. The larger commune
    keeps its name; a name clear of every other is kept whatever its commune's size."""
    from reports.charts import _unclashed

    def row(nom, lon, lat, aire):
        return {"nom": nom, "lon": lon, "lat": lat, "aire": aire, "align": "center", "rel": 0.5}

    frame = (3.30, 50.30, 3.50, 50.40)          # about 14 × 11 km, drawn 500 × 330 px
    rows = [row("Denain", 3.40, 50.33, 5.0), row("Wavrechain-sous-Denain", 3.41, 50.331, 1.0),
            row("Haveluy", 3.40, 50.38, 2.0)]
    kept = [r["nom"] for r in _unclashed(rows, frame, (500, 330), 8)]
    assert kept == ["Denain", "Haveluy"]
    # on a quartier's page, its own commune is named first, whatever its size
    kept = [r["nom"] for r in _unclashed(rows, frame, (500, 330), 8, first={"Wavrechain-sous-Denain"})]
    assert kept == ["Wavrechain-sous-Denain", "Haveluy"]


def _scale_bar(svg: str) -> float:
    """The length, in pixels, of the map's scale bar: a round number of kilometres at the projection fitted."""
    path = re.findall(r'd="M(-?[\d.]+),[\d.]+L(-?[\d.]+),[\d.]+" stroke="#1a1a1a" stroke-width="2.5"', svg)[0]
    return abs(float(path[1]) - float(path[0]))


def test_a_qpv_whose_outer_ring_turns_the_other_way_is_drawn_not_the_whole_sphere():
    """35 QPV of the national layer (QN05993N among them) have an outer ring counter-clockwise: d3-geo, under Vega,
    reads it as the whole sphere but the quartier, and a metropolis's map came out as one blue rectangle. The maps'
    geography is wound once (`charts.wound`), the layer's own rings as well as a deposited contour's."""
    q = load_reference(ProjectConfig()).qpv["QN05993N"]
    feature = {"type": "Feature", "geometry": q.geometry, "properties": {"code": q.code, "nom": q.nom, "v": 1.0}}
    assert any(charts._signed_area(polygon[0]) > 0 for polygon in
               (q.geometry["coordinates"] if q.geometry["type"] == "MultiPolygon" else [q.geometry["coordinates"]]))
    fixed = charts.wound([feature])
    assert all(charts._signed_area(ring) < 0 for polygon in fixed[0]["geometry"]["coordinates"]
               for ring in polygon[:1])
    # fitted on the whole sphere, the map is a blue frame and its scale bar a dot; fitted on the quartier, a bar
    assert _scale_bar(charts.qpv_map([feature], "t", "s", value="v", value_title="x")) < 1
    assert _scale_bar(charts.qpv_map(fixed, "t", "s", value="v", value_title="x")) > 40
