"""The bilan's charts: Altair specifications rendered offline to inline SVG by vl-convert, French formats.
Each chart's title says what to see; its subtitle names the source family and the measure."""

from __future__ import annotations

import hashlib
import re

import altair as alt
import pandas as pd
import vl_convert as vlc

from pipelines.config import Vocabulaire
from reports import theme  # noqa: F401  (registers and enables the theme)
from reports.statuts import NATURES, legende
from reports.theme import OKABE_ITO

WIDTH = 520


_GRADIENT_ID = re.compile(r"gradient_(\d+)")


def svg(chart: alt.TopLevelMixin) -> str:
    text = vlc.vegalite_to_svg(chart.to_dict(), format_locale="fr-FR", time_format_locale="fr-FR")
    text = text[text.find("<svg"):]  # inline: drop the XML prolog
    # vl-convert numbers gradients by a counter of the process (gradient_0, then _1…): the same chart would come
    # out different from one run to the next; named after the chart instead, unique in the page and stable
    digest = hashlib.sha256(_GRADIENT_ID.sub("gradient", text).encode()).hexdigest()[:10]
    order = list(dict.fromkeys(_GRADIENT_ID.findall(text)))
    return _GRADIENT_ID.sub(lambda m: f"gradient_{digest}_{order.index(m.group(1))}", text)


def _title(title: str, source: str) -> alt.TitleParams:
    return alt.TitleParams(text=title, subtitle=f"Source : {source}")


def bar(frame: pd.DataFrame, x: str, y: str, title: str, source: str, x_title: str, fmt: str = ",.0f",
        color: str | None = None, color_title: str | None = None, rule: float | None = None,
        sort=None) -> str:
    base = alt.Chart(frame)
    encoding = {
        "x": alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=fmt)),
        "y": alt.Y(f"{y}:N", title=None, sort=sort if sort is not None else "-x", axis=alt.Axis(labelLimit=260)),
        "tooltip": [alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:Q", format=fmt)],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=color_title, scale=alt.Scale(range=OKABE_ITO))
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
        y=alt.Y("ligne:N", title=None),
        color=alt.Color("statut_legende:N", title="Statut",
                        scale=alt.Scale(domain=order, range=[str(t.couleur) for t in terms]),
                        legend=alt.Legend(columns=3, labelLimit=220)),
        order=alt.Order("rang:Q"),
        tooltip=[alt.Tooltip("ligne:N", title="Question"), alt.Tooltip("statut_legende:N", title="Statut"), "n"],
    ).transform_calculate(rang=f"indexof({order}, datum.statut_legende)")
    return svg(chart.properties(title=_title(title, source), width=WIDTH, height=22 * counts["ligne"].nunique()))


def comparison(frame: pd.DataFrame, title: str, source: str) -> str:
    """Dot plot: the contract's QPV against the department's QPV and the whole EPCI, in %."""
    chart = alt.Chart(frame).mark_point(filled=True, size=80).encode(
        x=alt.X("valeur:Q", title="%", scale=alt.Scale(domain=[0, 100]), axis=alt.Axis(format=",.0f")),
        y=alt.Y("libelle:N", title=None, axis=alt.Axis(labelLimit=300)),
        color=alt.Color("niveau:N", title=None, scale=alt.Scale(range=OKABE_ITO)),
        shape=alt.Shape("niveau:N", title=None),
        tooltip=["libelle", "niveau", alt.Tooltip("valeur:Q", format=",.1f")],
    )
    return svg(chart.properties(title=_title(title, source), width=WIDTH, height=20 * frame["libelle"].nunique()))


def cohort_rates(frame: pd.DataFrame, title: str, source: str, order: list[str]) -> str:
    """One line per CPO and cohort across the jalons, in `order` (the vocabulary's)."""
    chart = alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("jalon:N", title="Jalon", sort=order, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("taux:Q", title="Sorties positives (%)", scale=alt.Scale(domain=[0, 100])),
        color=alt.Color("serie:N", title=None, scale=alt.Scale(range=OKABE_ITO),
                        legend=alt.Legend(orient="right", labelLimit=220)),
        tooltip=["serie", "jalon", alt.Tooltip("taux:Q", format=",.1f")],
    )
    return svg(chart.properties(title=_title(title, source), width=WIDTH - 160, height=220))


def qpv_map(features: list[dict], title: str, source: str, value: str | None = None, value_title: str = "",
            highlight: str | None = None) -> str:
    """The territory's QPV from the national contours: shaded by a figure, or one QPV highlighted."""
    data = alt.Data(values=features)
    chart = alt.Chart(data).mark_geoshape(stroke="#333333", strokeWidth=0.6)
    if highlight:
        chart = chart.encode(
            color=alt.condition(f"datum.properties.code == '{highlight}'", alt.value("#D55E00"), alt.value("#d9d9d9")),
            tooltip=[alt.Tooltip("properties.nom:N", title="QPV")])
    else:
        chart = chart.encode(
            color=alt.Color(f"properties.{value}:Q", title=value_title, scale=alt.Scale(scheme="blues"),
                            legend=alt.Legend(format=",.0f", orient="right")),
            tooltip=[alt.Tooltip("properties.nom:N", title="QPV"),
                     alt.Tooltip(f"properties.{value}:Q", title=value_title, format=",.1f")])
    chart = chart.project(type="mercator").properties(width=WIDTH if not highlight else 340,
                                                      height=300 if not highlight else 260)
    return svg(chart.properties(title=_title(title, source)))
