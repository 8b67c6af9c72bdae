"""Chart labels cut in Python (reports/labels.py): the cuts Vega would make, at the width each chart gives them."""

from __future__ import annotations

import re

import pandas as pd
import vl_convert as vlc

from reports import charts
from reports.labels import ELLIPSIS, fit, label_options, text_width

# long labels as the bilan has them (objectives of the demo's referential, a landlord and its QPV)
LABELS = [
    "Contribuer au plein emploi et soutenir le développement économique avec les acteurs du territoire",
    "Prévenir et favoriser l'accès aux soins des habitants des quartiers prioritaires",
    "Favoriser la citoyenneté",
    "Maisons & Cités — Cité Sainte-Marie - Pecquencourt - Lallaing (QN059017)",
]


def test_a_label_that_fits_is_left_whole_and_a_longer_one_cut_to_the_width():
    assert fit("Favoriser la citoyenneté", 260) == "Favoriser la citoyenneté"
    cut = fit(LABELS[0], 260)
    assert cut.endswith(ELLIPSIS) and LABELS[0].startswith(cut[:-1])
    assert text_width(cut) <= 260
    # the longest such start: one more character would not fit
    longer = LABELS[0][:len(cut)] + ELLIPSIS
    assert text_width(longer) > 260


def test_only_labels_too_wide_get_an_expression_and_vega_no_limit():
    options = label_options(LABELS, 260)
    assert options["labelLimit"] == 0
    assert LABELS[0] in options["labelExpr"] and "Favoriser la citoyenneté" not in options["labelExpr"]
    assert label_options(["Court", "Bref"], 260) == {"labelLimit": 0}


def _labels_and_width(svg: str) -> tuple[list[str], float]:
    texts = [t for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    width = float(re.search(r'<svg[^>]*width="([0-9.]+)"', svg).group(1))
    return texts, width


def test_the_chart_shows_the_cuts_vega_makes_and_keeps_its_width():
    frame = pd.DataFrame({"libelle": LABELS, "montant": [120_000, 80_000, 45_000, 20_000]})
    ours = charts.bar(frame, "montant", "libelle", "Crédits", "programmation", "Montant (€)")
    # the same chart cut by Vega itself, as before
    spec = (charts.alt.Chart(frame).mark_bar().encode(
        x=charts.alt.X("montant:Q", title="Montant (€)", axis=charts.alt.Axis(format=",.0f")),
        y=charts.alt.Y("libelle:N", title=None, sort="-x", axis=charts.alt.Axis(labelLimit=260)),
        tooltip=[charts.alt.Tooltip("libelle:N"), charts.alt.Tooltip("montant:Q", format=",.0f")])
        .properties(title=charts._title("Crédits", "programmation"), width=charts.WIDTH, height=88))
    vega = vlc.vegalite_to_svg(spec.to_dict(validate=False), format_locale="fr-FR", time_format_locale="fr-FR")
    our_texts, our_width = _labels_and_width(ours)
    vega_texts, vega_width = _labels_and_width(vega)
    cut_by_vega = [t for t in vega_texts if t.endswith(ELLIPSIS)]
    assert len(cut_by_vega) == 3
    # Vega keeps a space before the ellipsis, we do not
    assert sorted(t.replace(" " + ELLIPSIS, ELLIPSIS) for t in cut_by_vega) == \
        sorted(t for t in our_texts if t.endswith(ELLIPSIS))
    assert "Favoriser la citoyenneté" in our_texts
    assert abs(our_width - vega_width) <= 3
