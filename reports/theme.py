"""One look for every chart: a colour-blind-safe palette (Okabe-Ito), French labels, sober axes."""

from __future__ import annotations

import altair as alt

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
FONT = "DejaVu Sans"  # installed with the system fonts: rendering never fetches a web font
LABEL_FONT_SIZE = 10  # axes' and legends' labels (reports/labels.py cuts them at this size)


@alt.theme.register("bilan", enable=True)
def bilan_theme() -> alt.theme.ThemeConfig:
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"stroke": None},
            "range": {"category": OKABE_ITO},
            "title": {"anchor": "start", "fontSize": 13, "fontWeight": "bold", "color": "#1a1a1a", "offset": 8,
                      "subtitleFontSize": 10, "subtitleColor": "#555555"},
            "axis": {"labelFontSize": LABEL_FONT_SIZE, "titleFontSize": 10, "titleColor": "#333333",
                     "labelColor": "#333333", "gridColor": "#e6e6e6", "domainColor": "#999999", "tickColor": "#999999"},
            "legend": {"labelFontSize": LABEL_FONT_SIZE, "titleFontSize": 10, "orient": "bottom"},
            "bar": {"color": OKABE_ITO[0]},
        }
    }
