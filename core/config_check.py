"""`bilan config verifier`: every territory checked against the national references without running anything —
its EPCI's SIREN, its communes (members of the EPCI, names), its QPV (in the 2024 layer, with the layer's name and
communes, inside its EPCI), and no QPV claimed by two territories. Each finding names the file, the key and, when
it can, the nearest valid value from the same EPCI; errors stop `bilan run`, points to check do not."""

from __future__ import annotations

from dataclasses import dataclass

from core.common import nearest, normalise_header
from core.config.projet import ProjectConfig
from core.config.territoire import Territoire
from core.decoupage import Decoupage, load_decoupage
from core.reference import ReferenceGeographie, load_reference

ERREUR, A_VERIFIER = "erreur", "à vérifier"


@dataclass(frozen=True)
class Constat:
    fichier: str
    cle: str
    message: str
    gravite: str = ERREUR

    def __str__(self) -> str:
        return f"{self.fichier} : clé `{self.cle}` : {self.message}"


# how the COG abbreviates an EPCI's type at the start of its name
_TYPE_PREFIXES = {"ca": "communaute d agglomeration", "cc": "communaute de communes", "cu": "communaute urbaine"}


def _words(name: str) -> str:
    text = normalise_header(name).replace("_", " ")
    first, _, rest = text.partition(" ")
    return f"{_TYPE_PREFIXES[first]} {rest}" if first in _TYPE_PREFIXES else text


def _same(a: str, b: str) -> bool:
    """Two names equal but for case, accents, apostrophes, hyphens and the COG's « CA » or « CC » (« d'Hornaing »
    and « De Hornaing » differ)."""
    return _words(a) == _words(b)


def _epci(t: Territoire, path: str, decoupage: Decoupage) -> list[Constat]:
    epci = decoupage.epci.get(t.siren_epci)
    if epci is not None:
        if _same(epci.nom, t.nom):
            return []
        return [Constat(path, "nom", f"« {t.nom} » ; le découpage administratif {decoupage.millesime} nomme l'EPCI "
                                     f"{t.siren_epci} « {epci.nom} » ({epci.libelle_type})", A_VERIFIER)]
    # the EPCI of the territory's communes, by the references: the SIREN the steward meant
    guesses = sorted({e.siren: e for c in t.communes for e in decoupage.epci_of_commune(c.code_insee)}.values(),
                     key=lambda e: e.nom)
    hint = (" ; ses communes sont dans " + ", ".join(f"{e.nom} (SIREN {e.siren})" for e in guesses[:3])
            if guesses else "")
    if not guesses and t.communes and all(c.code_insee in decoupage.communes for c in t.communes):
        # communes known to the COG and in no EPCI à fiscalité propre (Saint-Martin, Polynésie française): the
        # contract's signatory is another body, whose SIREN the EPCI list cannot confirm
        return [Constat(path, "siren_epci", f"SIREN « {t.siren_epci} » non vérifiable : aucune des communes du "
                                            f"territoire n'est dans un EPCI à fiscalité propre du découpage "
                                            f"administratif {decoupage.millesime} (collectivité d'outre-mer) — "
                                            "vérifiez le SIREN du signataire du contrat", A_VERIFIER)]
    return [Constat(path, "siren_epci", f"SIREN « {t.siren_epci} » inconnu du découpage administratif "
                                        f"{decoupage.millesime} (EPCI à fiscalité propre){hint}")]


def _communes(t: Territoire, path: str, decoupage: Decoupage) -> list[Constat]:
    epci = decoupage.epci.get(t.siren_epci)
    if epci is None:
        return []
    members = {c.code: c for c in epci.membres}
    out = []
    for i, c in enumerate(t.communes):
        if c.code_insee in members:
            if not _same(members[c.code_insee].nom, c.nom):
                out.append(Constat(path, f"communes.{i}.nom", f"« {c.nom} » ; le COG nomme {c.code_insee} « "
                                                               f"{members[c.code_insee].nom} »", A_VERIFIER))
            continue
        elsewhere = decoupage.epci_of_commune(c.code_insee)
        where = (f"le découpage administratif la place dans {elsewhere[0].nom}" if elsewhere else
                 "code INSEE inconnu du découpage administratif")
        if c.hors_epci:
            out.append(Constat(path, f"communes.{i}", f"{c.nom} ({c.code_insee}) hors de {epci.nom} selon le "
                                                      f"découpage administratif ; déclarée : {c.hors_epci}",
                               A_VERIFIER))
            continue
        by_name = next((m for m in epci.membres if _same(m.nom, c.nom)), None)
        guess = by_name.code if by_name else nearest(c.code_insee, sorted(members))
        out.append(Constat(path, f"communes.{i}.code_insee",
                           f"« {c.code_insee} » ({c.nom}) n'est pas une commune de {epci.nom} : {where}"
                           + (f" — vouliez-vous dire « {guess} » ({members[guess].nom}) ?" if guess else "")
                           + " ; si la commune est au contrat malgré tout, dites pourquoi avec `hors_epci`"))
    listed = {c.code_insee for c in t.communes}
    left = [m for m in epci.membres if m.code not in listed]
    if left:
        out.append(Constat(path, "communes", f"{len(left)} commune(s) de {epci.nom} absente(s) de la liste : "
                                             + ", ".join(f"{m.nom} ({m.code})" for m in left[:10]), A_VERIFIER))
    return out


def _qpv(t: Territoire, path: str, reference: ReferenceGeographie, decoupage: Decoupage | None) -> list[Constat]:
    out = []
    epci = decoupage.epci.get(t.siren_epci) if decoupage else None
    own = {c.code_insee for c in t.communes}
    for i, q in enumerate(t.qpv):
        layer = reference.qpv.get(q.code)
        if layer is None:
            same_dep = sorted(c for c in reference.qpv if c[2:5] == q.code[2:5]
                              and set(reference.qpv[c].communes) & own)
            guess = nearest(q.code, same_dep) or nearest(q.code, sorted(c for c in reference.qpv
                                                                         if c[2:5] == q.code[2:5]))
            out.append(Constat(path, f"qpv.{i}.code", f"« {q.code} » absent de la liste nationale des QPV 2024"
                                                      + (f" — vouliez-vous dire « {guess} » ?" if guess else "")))
            continue
        # the layer's communes as the COG of the references names them now (a commune merged since: its new one)
        current = list(dict.fromkeys(decoupage.actuelle(c) for c in layer.communes)) if decoupage \
            else list(layer.communes)
        outside = [c for c in current if c not in own]
        if outside and not set(current) & own:
            owners = {e.nom for c in layer.communes for e in (decoupage.epci_of_commune(c) if decoupage else [])}
            mine = sorted(c for c, r in reference.qpv.items() if set(r.communes) & own and c not in t.codes_qpv)
            # the quartier the steward meant: the one of that name, else of those communes, else the nearest code
            guess = (next((c for c in mine if _same(reference.qpv[c].nom, q.nom)), None)
                     or nearest(q.code, [c for c in mine if set(reference.qpv[c].communes) == set(q.communes)])
                     or nearest(q.code, mine))
            out.append(Constat(path, f"qpv.{i}.code", f"« {q.code} » ({layer.nom}) est un QPV d'autres communes ("
                                                      f"{', '.join(layer.communes)}"
                                                      + (f", {', '.join(sorted(owners))}" if owners else "") + ")"
                                                      + (f" — vouliez-vous dire « {guess} » ?" if guess else "")))
            continue
        if set(q.communes) not in (set(layer.communes), set(current)):
            merged = [f"{c}, devenue {decoupage.actuelle(c)}" for c in layer.communes if decoupage
                      and decoupage.actuelle(c) != c]
            out.append(Constat(path, f"qpv.{i}.communes", f"{', '.join(q.communes)} ; la couche nationale donne "
                                                          f"{', '.join(layer.communes)} pour {q.code}"
                                                          + (f" ({' ; '.join(merged)})" if merged else "")))
        if not _same(q.nom, layer.nom):
            out.append(Constat(path, f"qpv.{i}.nom", f"« {q.nom} » ; la couche nationale le nomme « {layer.nom} »",
                               A_VERIFIER))
        if epci is not None:
            shared = [c for c in current if c not in epci.codes_communes]
            if shared and q.partage is None:
                others = sorted({e.nom for c in shared for e in decoupage.epci_of_commune(c)} if decoupage else [])
                out.append(Constat(path, f"qpv.{i}", f"{q.code} ({q.nom}) s'étend sur {', '.join(shared)}, hors de "
                                                     f"{epci.nom}" + (f" ({', '.join(others)})" if others else "")
                                                     + " : QPV intercommunal, à déclarer avec `partage` (avec qui, "
                                                       "part de sa population dans le contrat)", A_VERIFIER))
            elif not shared and q.partage is not None:
                out.append(Constat(path, f"qpv.{i}.partage", f"{q.code} est déclaré partagé avec {q.partage.avec}, "
                                                             f"mais la couche nationale le place tout entier dans "
                                                             f"{epci.nom}", A_VERIFIER))
    return out


def check_configuration(config: ProjectConfig, territoires: list[str] | None = None) -> tuple[list[Constat],
                                                                                             list[str]]:
    """(findings, what could not be checked) for the given territories (all by default). The configuration itself
    is loaded first: a YAML error raises ConfigurationError, in French, before any check."""
    wanted = territoires or list(config.territoires)
    decoupage = load_decoupage(config)
    reference = load_reference(config)
    missing = []
    if decoupage is None:
        missing.append("découpage administratif illisible (settings.yaml, `decoupage_administratif`) : SIREN et "
                       "communes non vérifiés")
    if reference is None:
        missing.append("couche nationale des QPV illisible (settings.yaml, `geographie_reference`) : QPV non vérifiés")
    out: list[Constat] = []
    claimed: dict[str, list[str]] = {}
    for code, t in config.territoires.items():
        for q in t.qpv:
            claimed.setdefault(q.code, []).append(code)
    for code in wanted:
        t = config.territoire(code)
        path = str(config.dir / "territoires" / f"{code}.yaml")
        if decoupage is not None:
            out += _epci(t, path, decoupage) + _communes(t, path, decoupage)
        if reference is not None:
            out += _qpv(t, path, reference, decoupage)
        for i, q in enumerate(t.qpv):
            others = [o for o in claimed[q.code] if o != code]
            if others:
                out.append(Constat(path, f"qpv.{i}.code", f"{q.code} est aussi déclaré par le territoire "
                                                          f"{', '.join(others)} : un QPV n'appartient qu'à un contrat"))
    return out, missing
