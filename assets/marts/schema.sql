-- Marts: one table per subject; rows of a year are replaced as a whole by that year's run.
CREATE SCHEMA IF NOT EXISTS marts;
CREATE TABLE IF NOT EXISTS marts.programmation (
    territoire VARCHAR, annee INTEGER, numero_dossier VARCHAR, porteur VARCHAR, intitule_action VARCHAR,
    code_objectif VARCHAR, axe VARCHAR, mode_financement VARCHAR, reference_cpo VARCHAR, financeur VARCHAR,
    nature_credit VARCHAR, statut VARCHAR, code_qpv VARCHAR, part_qpv DOUBLE, montant_demande DOUBLE,
    montant_accorde DOUBLE, cout_total_action DOUBLE, qpv_cibles VARCHAR, fichier VARCHAR, ligne INTEGER);
-- what the COPIL's tables add: what was paid, and each CPO's period
ALTER TABLE marts.programmation ADD COLUMN IF NOT EXISTS montant_verse DOUBLE;
ALTER TABLE marts.programmation ADD COLUMN IF NOT EXISTS cpo_annee_debut INTEGER;
ALTER TABLE marts.programmation ADD COLUMN IF NOT EXISTS cpo_annee_fin INTEGER;
-- 'qpv', or the type of a quartier of the complementary geography (never in a QPV total)
ALTER TABLE marts.programmation ADD COLUMN IF NOT EXISTS geographie VARCHAR;
-- the transversal axes the dossier serves (its own and its objective's), `T1;T3`
ALTER TABLE marts.programmation ADD COLUMN IF NOT EXISTS axes_transversaux VARCHAR;
CREATE TABLE IF NOT EXISTS marts.bilans_actions (
    territoire VARCHAR, annee INTEGER, annee_action INTEGER, numero_dossier VARCHAR, code_objectif VARCHAR,
    porteur VARCHAR, intitule_action VARCHAR, realisation VARCHAR, beneficiaires_total BIGINT,
    beneficiaires_femmes BIGINT, beneficiaires_hommes BIGINT, beneficiaires_residents_qpv BIGINT,
    beneficiaires_moins_26_ans BIGINT, depenses_realisees DOUBLE, complet BOOLEAN, fichier VARCHAR, ligne INTEGER,
    annee_boite INTEGER);
CREATE TABLE IF NOT EXISTS marts.engagements (
    territoire VARCHAR, annee INTEGER, partenaire VARCHAR, type_partenaire VARCHAR, code_objectif VARCHAR,
    engagement VARCHAR, indicateur VARCHAR, unite VARCHAR, perimetre VARCHAR, valeur_cible DOUBLE,
    valeur_realisee DOUBLE, taux_realisation DOUBLE, non_renseigne BOOLEAN, montant_droit_commun DOUBLE,
    lignes INTEGER, code_partenaire VARCHAR, code_indicateur VARCHAR, cle VARCHAR, declare BOOLEAN,
    agregat VARCHAR, qpv_engages INTEGER, qpv_renseignes INTEGER, partiel BOOLEAN);
-- warehouses made before commitments were matched by codes (config/referentiels/*.yaml `partenaires`)
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS code_partenaire VARCHAR;
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS code_indicateur VARCHAR;
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS cle VARCHAR;
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS declare BOOLEAN;
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS agregat VARCHAR;
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS qpv_engages INTEGER;
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS qpv_renseignes INTEGER;
ALTER TABLE marts.engagements ADD COLUMN IF NOT EXISTS partiel BOOLEAN;
CREATE TABLE IF NOT EXISTS marts.tfpb (
    territoire VARCHAR, annee INTEGER, bailleur VARCHAR, code_qpv VARCHAR, nb_logements BIGINT,
    montant_abattement DOUBLE, montant_valorise DOUBLE, cofinancement DOUBLE, actions INTEGER,
    taux_couverture DOUBLE, alerte_couverture BOOLEAN);
CREATE TABLE IF NOT EXISTS marts.tfpb_axes (
    territoire VARCHAR, annee INTEGER, bailleur VARCHAR, code_qpv VARCHAR, axe VARCHAR, actions INTEGER,
    montant_valorise DOUBLE, cofinancement DOUBLE);
CREATE TABLE IF NOT EXISTS marts.indicateurs (
    territoire VARCHAR, annee INTEGER, code_indicateur VARCHAR, libelle_indicateur VARCHAR, unite VARCHAR,
    perimetre VARCHAR, millesime INTEGER, valeur DOUBLE, secret BOOLEAN, calcule BOOLEAN, source VARCHAR,
    millesime_precedent INTEGER, valeur_precedente DOUBLE, evolution DOUBLE, unite_evolution VARCHAR,
    valeur_qpv_departement DOUBLE, ecart_qpv_departement DOUBLE, valeur_epci DOUBLE, ecart_epci DOUBLE);
CREATE SCHEMA IF NOT EXISTS referentiel;
CREATE TABLE IF NOT EXISTS referentiel.mesures (
    territoire VARCHAR, annee INTEGER, code_mesure VARCHAR, perimetre VARCHAR, cle VARCHAR, valeur DOUBLE,
    unite VARCHAR, annee_donnees INTEGER, source VARCHAR, effectif DOUBLE);
CREATE TABLE IF NOT EXISTS referentiel.indicateurs (
    territoire VARCHAR, annee INTEGER, referentiel_version VARCHAR, question VARCHAR, question_intitule VARCHAR,
    critere VARCHAR, objectifs VARCHAR, code_indicateur VARCHAR, libelle VARCHAR, unite VARCHAR, mesure VARCHAR,
    cle VARCHAR, perimetre VARCHAR, sens VARCHAR, valeur DOUBLE, annee_donnees INTEGER, valeur_precedente DOUBLE,
    annee_donnees_precedente INTEGER, tendance VARCHAR, reference DOUBLE, annee_reference INTEGER, cible DOUBLE,
    annee_cible INTEGER, ecart_cible DOUBLE, statut VARCHAR, raison VARCHAR, source VARCHAR, effectif DOUBLE,
    nature VARCHAR, seuil_significativite DOUBLE, projection_cible DOUBLE, lignes_rejetees INTEGER);
-- warehouses built before the honest statuses
ALTER TABLE referentiel.indicateurs ADD COLUMN IF NOT EXISTS nature VARCHAR;
ALTER TABLE referentiel.indicateurs ADD COLUMN IF NOT EXISTS seuil_significativite DOUBLE;
ALTER TABLE referentiel.indicateurs ADD COLUMN IF NOT EXISTS projection_cible DOUBLE;
ALTER TABLE referentiel.indicateurs ADD COLUMN IF NOT EXISTS lignes_rejetees INTEGER;
CREATE TABLE IF NOT EXISTS marts.cohortes_parcours (
    territoire VARCHAR, annee INTEGER, reference_cpo VARCHAR, code_objectif VARCHAR, cohorte INTEGER,
    identifiant_beneficiaire VARCHAR, date_entree DATE, sexe VARCHAR, tranche_age VARCHAR, residence VARCHAR,
    jalon VARCHAR, rang_jalon INTEGER, date_observation DATE, situation VARCHAR, fichier VARCHAR, ligne INTEGER);
CREATE TABLE IF NOT EXISTS marts.cohortes_jalons (
    territoire VARCHAR, annee INTEGER, reference_cpo VARCHAR, code_objectif VARCHAR, cohorte INTEGER, jalon VARCHAR,
    rang_jalon INTEGER, dimension VARCHAR, modalite VARCHAR, attendus BIGINT, observes BIGINT,
    {% for s in vocabulaire.situations %}{{ s.code }} BIGINT, {% endfor %}sorties_positives BIGINT, taux_sortie_positive DOUBLE,
    taux_emploi_durable DOUBLE, taux_perdus_de_vue DOUBLE);
CREATE TABLE IF NOT EXISTS marts.cohortes_transitions (
    territoire VARCHAR, annee INTEGER, reference_cpo VARCHAR, cohorte INTEGER, jalon_depart VARCHAR,
    jalon_arrivee VARCHAR, situation_depart VARCHAR, situation_arrivee VARCHAR, effectif BIGINT);
