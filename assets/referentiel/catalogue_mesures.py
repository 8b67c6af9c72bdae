"""The measure codes the marts produce, so a referential naming an unknown measure is refused when loaded."""

from __future__ import annotations

from pipelines.config import Catalogue, ConfigurationError, Referentiel

STATIC_MEASURES = {
    "prog.dossiers_accordes": "dossiers accordés (par objectif avec cle = OG.x.y)",
    "prog.montant_accorde": "crédits accordés (cle : objectif ou « axe n » ; périmètre : territoire ou QPV)",
    "prog.montant_bop147": "crédits BOP 147 accordés",
    "prog.montant_droit_commun": "crédits de droit commun accordés",
    "prog.part_droit_commun": "part du droit commun dans les crédits accordés",
    "prog.effet_levier_bop147": "autres crédits par euro de BOP 147, sur les dossiers cofinancés par le BOP 147",
    "prog.part_cpo_dossiers": "part des dossiers accordés financés en CPO",
    "prog.part_cpo_montant": "part des crédits accordés en CPO (tous financeurs)",
    "prog.part_cpo_montant_bop147": "part des crédits BOP 147 accordés en CPO",
    "prog.montant_par_habitant": "crédits accordés par habitant des QPV",
    "bilans.rapports_recus": "bilans d'actions reçus pour l'année précédente",
    "bilans.taux_rapports": "part des dossiers accordés l'année précédente dont le bilan est reçu",
    "bilans.beneficiaires": "bénéficiaires des actions de l'année précédente",
    "bilans.part_femmes": "part des femmes parmi les bénéficiaires",
    "bilans.part_residents_qpv": "part des résidents des QPV parmi les bénéficiaires",
    "bilans.part_moins_26_ans": "part des moins de 26 ans parmi les bénéficiaires",
    "engagement.realise": "valeur réalisée d'un engagement (cle = partenaire — indicateur)",
    "engagement.cible": "valeur cible d'un engagement",
    "engagement.taux_realisation": "réalisé / cible d'un engagement",
    "engagements.nombre": "engagements des partenaires dans l'année",
    "engagements.non_renseignes": "engagements sans valeur réalisée",
    "engagements.taux_realisation_moyen": "moyenne des taux de réalisation plafonnés à 100 %",
    "engagements.montant_droit_commun": "droit commun mobilisé déclaré par les partenaires",
    "tfpb.logements": "logements sociaux des bailleurs en QPV",
    "tfpb.abattement": "abattement de TFPB",
    "tfpb.valorise": "contreparties valorisées",
    "tfpb.taux_couverture": "contreparties valorisées / abattement",
    "tfpb.abattement_par_logement": "abattement par logement",
    "tfpb.alertes_couverture": "couples bailleur-QPV dont la couverture est sous 100 %",
}
INDICATOR_SUFFIXES = ("", ".ecart_qpv_departement", ".ecart_epci")
COHORT_MEASURES = {  # cle = the CPO reference (cohorte.*) or the objective (cohortes_objectif.*)
    f"{prefix}.{what}_{jalon}"
    for prefix in ("cohorte", "cohortes_objectif")
    for what in ("observes", "taux_sortie_positive", "taux_emploi_durable", "taux_perdus_de_vue")
    for jalon in ("6_mois", "12_mois", "24_mois", "sortie")
}


def known_measures(catalogue: Catalogue) -> set[str]:
    return (set(STATIC_MEASURES) | COHORT_MEASURES
            | {f"indicateur.{c}{s}" for c in catalogue.codes for s in INDICATOR_SUFFIXES})


def validate_measures(referentiel: Referentiel, catalogue: Catalogue, path: str) -> None:
    known = known_measures(catalogue)
    problems = []
    for qi, question in enumerate(referentiel.questions):
        for ii, indicateur in enumerate(question.indicateurs):
            if indicateur.mesure not in known:
                problems.append(f"  - clé `questions.{qi}.indicateurs.{ii}.mesure` ({indicateur.code}) : mesure "
                                f"inconnue « {indicateur.mesure} »")
    if problems:
        raise ConfigurationError(f"{path} : référentiel invalide\n" + "\n".join(problems))
