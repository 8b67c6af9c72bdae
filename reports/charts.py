"""The bilan's charts: Altair specifications rendered offline to inline SVG by vl-convert, French formats.
Each chart's title says what to see; its subtitle names the source family and the measure."""

from __future__ import annotations

import hashlib
import html
import math
import re
from typing import Literal

import altair as alt
import pandas as pd
import vl_convert as vlc

from core.config.vocabulaire import Vocabulaire
from reports import theme  # noqa: F401  (registers and enables the theme)
from reports.format import euros, nombre
from reports.labels import label_options
from reports.statuts import NATURES, legende
from reports.theme import OKABE_ITO

WIDTH = 520
# Altair refuses a DataFrame of more than 5 000 rows (MaxRowsError), a guard for a notebook's browser: here it would
# stop a bilan. What bounds a chart is the sections' cap (reports/plafonds.py: a chart gets at most
# `rendu.elements_par_graphique` items, aggregated before), not this check.
alt.data_transformers.disable_max_rows()
# Vega's default widths for labels no chart sets (reports/labels.py cuts them)
AXIS_LIMIT, LEGEND_LIMIT = 180, 160


# the ids vl-convert numbers by a counter of the process (gradient_0, clip3, then gradient_1, clip4…)
_PROCESS_ID = re.compile(r"\b(gradient_|clip)(\d+)\b")
# the ARIA attributes Vega writes on the groups and marks inside a chart
_MARK_ARIA = re.compile(r' (?:role="graphics-[a-z]+"|aria-(?:roledescription|label|hidden)="[^"]*")')


def svg(chart: alt.TopLevelMixin, **spec: object) -> str:
    """`spec`: top-level Vega-Lite properties given as plain JSON (a map's projection and the GeoJSON it fits, its
    layers' GeoJSON as named `datasets`)."""
    # the charts are built by this module from known shapes: Altair's JSON-schema validation of every spec (with its
    # inline GeoJSON, for maps) took most of a bilan's rendering time
    spec_dict = chart.to_dict(validate=False)
    # named datasets given here join those Altair made of the chart's DataFrames
    datasets = {**spec_dict.get("datasets", {}), **spec.pop("datasets", {})}  # type: ignore[dict-item]
    text = vlc.vegalite_to_svg({**spec_dict, **spec, **({"datasets": datasets} if datasets else {})},
                               format_locale="fr-FR", time_format_locale="fr-FR")
    text = text[text.find("<svg"):]  # inline: drop the XML prolog
    # one image to a screen reader (RGAA 1.2, 1.3): its title and its source as the text alternative of the whole,
    # none of the roles Vega gives its mark groups (images without a text: axe-core's svg-img-alt)
    text = _MARK_ARIA.sub("", text)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{html.escape(_alternative(spec_dict), quote=True)}" ', 1)
    # with those counters the same chart would come out different from one chart, or one run, to the next: named
    # after the chart instead, unique in the page (inline SVGs share its ids) and stable
    digest = hashlib.sha256(_PROCESS_ID.sub(r"\1", text).encode()).hexdigest()[:10]
    order = list(dict.fromkeys(m.group(0) for m in _PROCESS_ID.finditer(text)))
    return _PROCESS_ID.sub(lambda m: f"{m.group(1).rstrip('_')}_{digest}_{order.index(m.group(0))}", text)


def _alternative(spec: dict) -> str:
    """What a screen reader says of a chart: its title and subtitle (the source), as the chart prints them."""
    title = spec.get("title") or {}
    if isinstance(title, str):
        return title
    parts = [title.get("text"), title.get("subtitle")]
    return ". ".join(" ".join(p) if isinstance(p, list) else str(p) for p in parts if p)


def _title(title: str, source: str) -> alt.TitleParams:
    return alt.TitleParams(text=title, subtitle=f"Source : {source}")


def bar(frame: pd.DataFrame, x: str, y: str, title: str, source: str, x_title: str, fmt: str = ",.0f",
        color: str | None = None, color_title: str | None = None, rule: float | None = None,
        sort=None) -> str:
    base = alt.Chart(frame)
    encoding = {
        "x": alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=fmt)),
        "y": alt.Y(f"{y}:N", title=None, sort=sort if sort is not None else "-x",
                   axis=alt.Axis(**label_options(frame[y], 260))),
        "tooltip": [alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:Q", format=fmt)],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=color_title, scale=alt.Scale(range=OKABE_ITO),
                                      legend=alt.Legend(**label_options(frame[color], LEGEND_LIMIT)))
    layers = base.mark_bar().encode(**encoding)
    if rule is not None:
        layers = layers + alt.Chart(pd.DataFrame({"v": [rule]})).mark_rule(color="#D55E00", strokeDash=[4, 3]).encode(
            x="v:Q")
    height = max(60, 22 * frame[y].nunique())
    return svg(layers.properties(title=_title(title, source), width=WIDTH, height=height))


def statuses(frame: pd.DataFrame, title: str, source: str, vocabulaire: Vocabulaire) -> str:
    """Indicators per question and status, means and results on separate rows; each status has its colour and its
    symbol in the legend (config/vocabulaire.yaml, `statuts_indicateur`)."""
    terms = vocabulaire.termes("statuts_indicateur")
    labels = legende(vocabulaire)
    frame = frame.assign(ligne=frame["question"] + " · "
                         + frame["nature"].map(lambda n: NATURES.get(n, "Nature non précisée").split(" ")[0].lower()))
    counts = frame.groupby(["ligne", "statut"]).size().reset_index(name="n")
    counts["statut_legende"] = counts["statut"].map(labels)
    order = [labels[t.code] for t in terms]
    chart = alt.Chart(counts).mark_bar(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("n:Q", title="Indicateurs", axis=alt.Axis(format="d", tickMinStep=1)),
        y=alt.Y("ligne:N", title=None, axis=alt.Axis(**label_options(counts["ligne"], AXIS_LIMIT))),
        color=alt.Color("statut_legende:N", title="Statut",
                        scale=alt.Scale(domain=order, range=[str(t.couleur) for t in terms]),
                        legend=alt.Legend(columns=3, **label_options(order, 220))),
        order=alt.Order("rang:Q"),
        tooltip=[alt.Tooltip("ligne:N", title="Question"), alt.Tooltip("statut_legende:N", title="Statut"), "n"],
    ).transform_calculate(rang=f"indexof({order}, datum.statut_legende)")
    return svg(chart.properties(title=_title(title, source), width=WIDTH, height=22 * counts["ligne"].nunique()))


def comparison(frame: pd.DataFrame, title: str, source: str) -> str:
    """Dot plot: the contract's QPV against the department's QPV and the whole EPCI, in %."""
    chart = alt.Chart(frame).mark_point(filled=True, size=80).encode(
        x=alt.X("valeur:Q", title="%", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(format=",.0f")),
        y=alt.Y("libelle:N", title=None, axis=alt.Axis(**label_options(frame["libelle"], 300))),
        color=alt.Color("niveau:N", title=None, scale=alt.Scale(range=OKABE_ITO),
                        legend=alt.Legend(**label_options(frame["niveau"], LEGEND_LIMIT))),
        shape=alt.Shape("niveau:N", title=None),
        tooltip=["libelle", "niveau", alt.Tooltip("valeur:Q", format=",.1f")],
    )
    return svg(chart.properties(title=_title(title, source), width=WIDTH, height=20 * frame["libelle"].nunique()))


def cohort_rates_chart(frame: pd.DataFrame, title: str, source: str, order: list[str],
                       sortie: str | None = None) -> alt.TopLevelMixin:
    """The follow-up jalons (`order`, the vocabulary's) as one line per CPO and cohort; the exit (`sortie`: its label),
    a smaller self-selected group, as dots in a panel of its own: never joined to the jalon line."""
    colour = alt.Color("serie:N", title=None, scale=alt.Scale(range=OKABE_ITO),
                       legend=alt.Legend(orient="bottom", columns=2, **label_options(frame["serie"], 260)))
    y = alt.Y("taux:Q", title="Sorties positives (%)", scale=alt.Scale(domain=[0, 100]))
    tooltip = ["serie", "jalon", alt.Tooltip("taux:Q", format=",.1f")]
    jalons_labels = label_options(frame["jalon"], AXIS_LIMIT)
    follow_up = frame[frame["jalon"] != sortie] if sortie else frame
    exits = frame[frame["jalon"] == sortie] if sortie else frame.iloc[0:0]
    jalons = alt.Chart(follow_up, title="Aux jalons de suivi").mark_line(point=True).encode(
        x=alt.X("jalon:N", title="Jalon", sort=order, axis=alt.Axis(labelAngle=0, **jalons_labels)), y=y,
        color=colour,
        tooltip=tooltip).properties(width=WIDTH - 200 if len(exits) else WIDTH, height=220)
    if not len(exits):
        return jalons.properties(title=_title(title, source))
    out = alt.Chart(exits, title="À la sortie du dispositif").mark_point(filled=True, size=80).encode(
        x=alt.X("jalon:N", title=None, axis=alt.Axis(labelAngle=0, **jalons_labels)), y=y, color=colour,
        shape=alt.Shape("serie:N", title=None, legend=None), tooltip=tooltip).properties(width=110, height=220)
    return alt.hconcat(jalons, out, title=_title(title, source)).resolve_scale(color="shared", y="shared")


def cohort_rates(frame: pd.DataFrame, title: str, source: str, order: list[str], sortie: str | None = None) -> str:
    return svg(cohort_rates_chart(frame, title, source, order, sortie))


# the classes of a choropleth: a symbol legend (one swatch per class) prints in the PDF, a gradient does not
CLASS_COLOURS = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"]
NO_VALUE = "non renseigné"


def _nice(x: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at least x."""
    if x <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(x))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= x)


def classes(values: list[float | None], n: int = len(CLASS_COLOURS)) -> tuple[list[float], list[str]]:
    """Equal classes from 0 to a round maximum: → (upper bounds, French labels « 0 à 50 € »)."""
    present = [v for v in values if v is not None and not math.isnan(v)]
    step = _nice(max(present) / n) if present else 1.0
    bounds = [step * (i + 1) for i in range(n)]
    labels = [f"{nombre(step * i, 0 if step >= 1 else 1)} à {euros(b, 0 if step >= 1 else 1)}"
              for i, b in enumerate(bounds)]
    return bounds, labels


def _rings(geometry: dict) -> list[list]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    if geometry["type"] == "MultiPolygon":
        return [ring for polygon in geometry["coordinates"] for ring in polygon]
    return []


def outline(features: list[dict]) -> dict:
    """The outer boundary of a set of adjacent polygons (the EPCI from its communes), without a geometry library:
    the contours share their vertices along common borders, so a border segment drawn once is on the outline."""
    count: dict[tuple, int] = {}
    for f in features:
        for ring in _rings(f["geometry"]):
            for a, b in zip(ring, ring[1:]):
                key = (tuple(a), tuple(b)) if tuple(a) <= tuple(b) else (tuple(b), tuple(a))
                count[key] = count.get(key, 0) + 1
    lines = [[list(a), list(b)] for (a, b), n in count.items() if n == 1]
    return {"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": lines}, "properties": {}}


def label_point(geometry: dict) -> tuple[float, float]:
    """Area centroid of the largest ring (shoelace formula): where a commune's name is written."""
    def area_centroid(ring):
        a = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
            cross = x0 * y1 - x1 * y0
            a, cx, cy = a + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
        return (abs(a) / 2, (cx / (3 * a), cy / (3 * a))) if a else (0.0, tuple(ring[0][:2]))
    return max((area_centroid(r) for r in _rings(geometry)), key=lambda t: t[0])[1]


def scale_bar(features: list[dict]) -> tuple[dict, dict]:
    """A round-length bar under the map's south-west corner, in lon/lat so that the map's projection draws it at
    the right length: → (LineString feature, label {lon, lat, texte})."""
    points = [p for f in features for r in _rings(f["geometry"]) for p in r]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    west, east, south, north = min(lons), max(lons), min(lats), max(lats)
    km_per_degree = 111.32 * math.cos(math.radians((south + north) / 2))
    km = _nice((east - west) * km_per_degree / 5)
    y = south - 0.04 * (north - south)
    x0, x1 = west, west + km / km_per_degree
    bar = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[x0, y], [x1, y]]},
           "properties": {}}
    return bar, {"lon": (x0 + x1) / 2, "lat": y - 0.035 * (north - south), "texte": f"{nombre(km)} km"}


def _bbox(features: list[dict]) -> tuple[float, float, float, float]:
    points = [p for f in features for r in _rings(f["geometry"]) for p in r]
    return (min(p[0] for p in points), min(p[1] for p in points), max(p[0] for p in points),
            max(p[1] for p in points))


def _around(target: list[dict], communes: list[dict]) -> list[dict]:
    """The communes whose box meets the target's: what a map zoomed on one QPV shows around it."""
    w, s, e, n = _bbox(target)
    return [c for c in communes for cw, cs, ce, cn in [_bbox([c])] if cw <= e and ce >= w and cs <= n and cn >= s]


def _covers(geometry: dict, point: tuple[float, float]) -> bool:
    """Whether the point is inside one of the geometry's rings (ray casting; holes aside: a commune has none)."""
    x, y = point
    for ring in _rings(geometry):
        inside = False
        for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:]):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                inside = not inside
        if inside:
            return True
    return False


def _area(geometry: dict) -> float:
    def shoelace(ring):
        return abs(sum(x0 * y1 - x1 * y0 for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:]))) / 2
    return max((shoelace(r) for r in _rings(geometry)), default=0.0)


def _unclashed(rows: list[dict], frame: tuple[float, float, float, float], size: tuple[int, int],
               font: int, first: frozenset[str] | set[str] = frozenset()) -> list[dict]:
    """The labels that do not run into one another: the communes in `first` (those under the quartier a map
    is about), then the largest; a name that would overlap one already placed is left out (« Wavrechain-sous-Denain »
    written over « Denain » helped no reader). Positions in pixels from the map's fit (an equirectangular estimate
    of its Mercator projection, close enough at the scale of an EPCI); a label's box from its characters' average
    width."""
    w, s, e, n = frame
    cos = math.cos(math.radians((s + n) / 2))
    k = min(size[0] / (((e - w) * cos) or 1), size[1] / ((n - s) or 1))
    kept: list[tuple[float, float, float, float]] = []
    out = []
    for r in sorted(rows, key=lambda r: (r["nom"] not in first, -r["aire"], r["nom"])):
        x, y = (r["lon"] - w) * cos * k, (n - r["lat"]) * k
        width, height = 0.56 * font * len(r["nom"]), 1.2 * font
        left = {"left": x - 6, "center": x - width / 2, "right": x + 6 - width}[r["align"]]
        box = (left - 2, y - height / 2 - 1, left + width + 2, y + height / 2 + 1)
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in kept):
            continue
        kept.append(box)
        out.append(r)
    return out


def _names(communes: list[dict], frame_of: list[dict], clip: bool, size: tuple[int, int] = (WIDTH, 330),
           first: frozenset[str] | set[str] = frozenset()) -> list:
    """The names of the communes whose label point falls in the frame (the box of `frame_of`): those near its left
    or right edge run inwards, so that no name is cut by the frame (a cut name would still sit, hidden, outside
    the PDF's margins); a name that would overlap a larger commune's is left out."""
    w, s, e, n = _bbox(frame_of)
    font = 8 if not clip else 10
    rows = [{"nom": f["properties"]["nom"], "lon": x, "lat": y, "rel": rel, "aire": _area(f["geometry"]),
             "align": "left" if rel < 0.3 else "right" if rel > 0.7 else "center"}
            for f in communes for x, y in [label_point(f["geometry"])] for rel in [(x - w) / ((e - w) or 1)]
            if w <= x <= e and s + 0.04 * (n - s) <= y <= n - 0.04 * (n - s)]
    frame = pd.DataFrame(_unclashed(rows, (w, s, e, n), size, font, first), columns=["nom", "lon", "lat", "rel", "aire",
                                                                              "align"])
    layers = []
    parts: list[tuple[Literal["left", "center", "right"], pd.DataFrame]] = [
        ("left", frame[frame["rel"] < 0.3]), ("center", frame[frame["rel"].between(0.3, 0.7)]),
        ("right", frame[frame["rel"] > 0.7])]
    for align, part in parts:
        if len(part):
            layers.append(alt.Chart(part[["nom", "lon", "lat"]]).mark_text(
                fontSize=font, color="#333333", fontStyle="italic", align=align,
                dx={"left": -6, "center": 0, "right": 6}[align]).encode(
                longitude="lon:Q", latitude="lat:Q", text="nom:N"))
    return layers


def qpv_map(features: list[dict], title: str, source: str, value: str | None = None, value_title: str = "",
            highlight: str | None = None, communes: list[dict] | None = None) -> str:
    """The territory's QPV from the national contours, over the territory's communes (named, with the EPCI's
    outline) and with a scale bar: shaded by a figure in classes, or one QPV highlighted."""
    context = communes or features
    if highlight and communes:
        # one QPV's page: zoomed on the communes it spans, the rest of the territory clipped at the frame
        context = _around([f for f in features if f["properties"]["code"] == highlight], communes) or communes
    clip = bool(highlight and communes)
    size = (WIDTH, 330) if not highlight else (WIDTH - 40, 340)
    qpv = alt.Chart(alt.Data(name="qpv")).mark_geoshape(stroke="#333333", strokeWidth=0.7, clip=clip)
    if highlight:
        qpv = qpv.encode(
            color=alt.condition(f"datum.properties.code == '{highlight}'", alt.value("#D55E00"), alt.value("#bdbdbd")),
            tooltip=[alt.Tooltip("properties.nom:N", title="QPV")])
    else:
        bounds, labels = classes([f["properties"].get(value) for f in features])
        for f in features:
            v = f["properties"].get(value)
            f["properties"]["classe"] = (NO_VALUE if v is None or math.isnan(v) else
                                         next((lab for b, lab in zip(bounds, labels) if v <= b), labels[-1]))
        domain = labels + ([NO_VALUE] if any(f["properties"]["classe"] == NO_VALUE for f in features) else [])
        qpv = qpv.encode(
            color=alt.Color("properties.classe:N", title=value_title,
                            scale=alt.Scale(domain=domain, range=CLASS_COLOURS[:len(labels)] + ["#d9d9d9"]),
                            legend=alt.Legend(orient="right", type="symbol", symbolType="square", symbolSize=180,
                                              **label_options(domain, LEGEND_LIMIT))),
            tooltip=[alt.Tooltip("properties.nom:N", title="QPV"),
                     alt.Tooltip(f"properties.{value}:Q", title=value_title, format=",.1f")])
    # on a quartier's page, the communes under it are named before any other
    target = [f for f in features if f["properties"]["code"] == highlight]
    first = ({c["properties"]["nom"] for c in communes if _covers(c["geometry"], label_point(target[0]["geometry"]))}
             if target and communes else set())
    return _map({"qpv": features}, [qpv], communes, context, clip, size, title, source, first)


def _map(datasets: dict[str, list], shapes: list, communes: list[dict] | None, context: list[dict], clip: bool,
         size: tuple[int, int], title: str, source: str, first: frozenset[str] | set[str] = frozenset()) -> str:
    """A map's frame around its `shapes`: the communes under them, the EPCI's outline and the communes' names
    over them, a scale bar; one Mercator projection fitted on `context`. The GeoJSON goes to the spec's top-level
    `datasets`, named by the layers: Altair never walks nor copies it (set on each layer, it was copied into the
    spec as many times)."""
    layers = []
    if communes:
        datasets = {**datasets, "communes": communes, "contour": [outline(communes)]}
        layers.append(alt.Chart(alt.Data(name="communes")).mark_geoshape(
            fill="#f2f2f2", stroke="#8c8c8c", strokeWidth=0.5, clip=clip))
    layers += shapes
    if communes:
        layers.append(alt.Chart(alt.Data(name="contour")).mark_geoshape(
            filled=False, stroke="#0b3d66", strokeWidth=1.6, clip=clip))
        layers += _names(communes, context, clip, size, first)
    bar, label = scale_bar(context)
    datasets = {**datasets, "echelle": [bar]}
    layers.append(alt.Chart(alt.Data(name="echelle")).mark_geoshape(
        filled=False, stroke="#1a1a1a", strokeWidth=2.5))
    layers.append(alt.Chart(pd.DataFrame([label])).mark_text(fontSize=9, color="#1a1a1a").encode(
        longitude="lon:Q", latitude="lat:Q", text="texte:N"))
    chart = alt.layer(*layers).properties(width=size[0], height=size[1], title=_title(title, source))
    projection = {"type": "mercator", "fit": {"type": "FeatureCollection", "features": context}}
    return svg(chart, projection=projection, datasets=datasets)


def _signed_area(ring: list) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1, *_), (x2, y2, *_) in zip(ring, ring[1:]))


def d3_winding(feature: dict) -> dict:
    """The feature with its rings as Vega's spherical geometry (d3-geo) reads them: an outer ring clockwise, a hole
    counter-clockwise. A file deposited by a territory may follow RFC 7946 (the reverse), and d3 then fills the
    whole sphere but the quartier."""
    geometry = feature["geometry"]
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    wound = [[ring if (_signed_area(ring) < 0) == (i == 0) else ring[::-1] for i, ring in enumerate(polygon)]
             for polygon in polygons]
    coordinates = wound if geometry["type"] == "MultiPolygon" else wound[0]
    return {**feature, "geometry": {"type": geometry["type"], "coordinates": coordinates}}


def wound(features: list[dict] | None) -> list[dict] | None:
    """Every polygon of `features` wound as d3-geo reads it (`d3_winding`): 35 QPV of the national layer have an
    outer ring the other way round, and one of them blanked a whole territory's map."""
    if features is None:
        return None
    return [d3_winding(f) if f.get("geometry", {}).get("type") in ("Polygon", "MultiPolygon") else f
            for f in features]


def complementary_map(quartiers: list[dict], features: list[dict] | None, communes: list[dict] | None, title: str,
                      source: str) -> str:
    """The complementary geography's outlines (orange) beside the regulatory QPV (grey), over the communes of the
    territory (named, with the EPCI's outline): where the poches are, and that they are not QPV."""
    quartiers = wound(quartiers) or []
    # framed on the quartiers and the QPV: the territory's other communes are clipped at the frame
    context = quartiers + (features or [])
    clip = bool(communes)
    datasets: dict[str, list] = {"quartiers": quartiers}
    layers = []
    kinds = ["géographie complémentaire"] + (["QPV"] if features else [])
    colour = alt.Color("genre:N", title=None, scale=alt.Scale(domain=kinds, range=["#D55E00", "#bdbdbd"][:len(kinds)]),
                       legend=alt.Legend(orient="right", symbolType="square", symbolSize=180, labelLimit=200))
    if features:
        datasets["qpv"] = features
        layers.append(alt.Chart(alt.Data(name="qpv")).mark_geoshape(stroke="#333333", strokeWidth=0.5,
                                                                    clip=clip).transform_calculate(
            genre="'QPV'").encode(color=colour, tooltip=[alt.Tooltip("properties.nom:N", title="QPV")]))
    layers.append(alt.Chart(alt.Data(name="quartiers")).mark_geoshape(stroke="#333333", strokeWidth=0.7, clip=clip)
                  .transform_calculate(genre="'géographie complémentaire'")
                  .encode(color=colour, tooltip=[alt.Tooltip("properties.nom:N", title="Quartier")]))
    return _map(datasets, layers, communes, context, clip, (WIDTH - 120, 330), title, source)
