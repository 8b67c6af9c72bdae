"""The method notes of the bilan and of its annex; thresholds from config/settings.yaml (`seuils`)."""

from __future__ import annotations

from core.config.bilan import Section
from reports.data import BilanData
from reports.format import pct


def method_notes(data: BilanData) -> list[str]:
    """The method notes of the bilan and its annex; thresholds from config/settings.yaml (`seuils`)."""
    seuils = data.seuils
    positives = [f"« {t.libelle} »" for t in data.vocabulaire.termes("situations") if t.positive]
    return [
        "Crédits : montants accordés des dossiers accordés (par au moins un de leurs financeurs) de la programmation "
        "de l'année, tous financeurs ; les répartitions par financeur, objectif et QPV en sont des parts.",
        "Un dossier qui vise plusieurs QPV est réparti entre eux au prorata de leur population (« TOUS » = tous les "
        "QPV du territoire) ; les montants par QPV sont donc des estimations.",
        "Effet levier du BOP 147 : autres crédits accordés pour chaque euro de BOP 147, sur les seuls dossiers que le "
        "BOP 147 cofinance.",
        f"Part des CPO : en nombre de dossiers et en montant, tous financeurs et BOP 147 seul (la circulaire vise "
        f"{pct(seuils['part_cpo_visee'], 0)}).",
        "Bilans d'actions : le bilan de l'année Y présente la programmation de Y et les bilans complets des actions de "
        "Y-1 ; un bilan plus récent d'un même dossier remplace le précédent. Parts de femmes, de résidents des QPV et "
        "de moins de 26 ans calculées sur les bilans qui donnent la répartition (Σ parties / Σ totaux).",
        "Engagements : rattachés au référentiel par les codes de partenaire et d'indicateur qu'il déclare (avec les "
        "variantes d'écriture des partenaires) ; une valeur réalisée vide signifie « non renseigné », jamais zéro ; un "
        "engagement donné QPV par QPV a pour valeur d'ensemble la somme des QPV renseignés s'il s'agit d'un nombre ou "
        "d'euros (« partiel » si des QPV manquent, taux de réalisation sur la cible de ces mêmes QPV), aucune s'il "
        "s'agit d'un taux (jamais additionné entre QPV) ; le taux moyen de réalisation plafonne chaque engagement à "
        "100 %.",
        "TFPB : l'abattement est compté une fois par bailleur et par QPV (ligne patrimoine), jamais par action ; "
        f"couverture = contreparties valorisées / abattement, alerte sous {pct(seuils['couverture_tfpb'], 0)}.",
        "Indicateurs : dernier millésime disponible ; la valeur de l'ensemble des QPV est celle publiée par la source, "
        "ou Σ numérateurs / Σ dénominateurs si chaque QPV les donne ; les écarts sont en points de pourcentage au même "
        "millésime. Deux millésimes proches ne mesurent pas une évolution significative à l'échelle infra-communale.",
        "Statuts du référentiel : « atteint » si la cible de la prochaine échéance (2027, puis 2030) est atteinte "
        "(au-dessus pour un indicateur qui doit monter, au-dessous pour un indicateur à réduire) ; sinon la tendance "
        "observée depuis la valeur de référence, à défaut depuis la valeur précédente, est prolongée en ligne droite "
        "jusqu'à l'échéance : « en bonne voie » seulement si elle y atteint la cible, « en retard » sinon (et pour une "
        "première valeur, sans tendance) ; « évolution non significative » si l'écart est sous le seuil de "
        "l'indicateur (référentiel, en points pour un taux). Sans valeur : « pas encore de donnée nouvelle », "
        "« partenaire silencieux », « secret statistique », « ligne rejetée » (une ligne en quarantaine l'aurait "
        "alimentée ; une valeur qu'elle aurait changée est aussi provisoire) ou « non renseigné », avec la raison. "
        "Les indicateurs de moyens (crédits, activité des partenaires) et de résultats (situation des habitants) sont "
        "comptés à part.",
        "Cohortes : une cohorte réunit les personnes entrées dans une CPO une même année ; sortie positive : "
        f"{', '.join(positives[:-1])} ou {positives[-1]} ; taux calculés sur les personnes observées au jalon.",
    ]




def build(data: BilanData, section: Section, geography) -> dict:
    return {"notes": method_notes(data), "secret": data.secret}
