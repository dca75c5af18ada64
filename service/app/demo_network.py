"""The demo network's reference data: real communes of the Lille metropole, venues, employers.

Communes carry their official INSEE codes and postcodes; venues, people and companies are
invented, at plausible addresses. `service.app.seed` turns this into rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal

VAT = Decimal("0.20")
NO_VAT = Decimal("0")


@dataclass(frozen=True)
class Commune:
    name: str
    insee_code: str
    postcode: str
    latitude: float  # town centre; venues are placed a few hundred metres around it
    longitude: float


# INSEE codes from the official list of the Métropole Européenne de Lille's communes.
COMMUNES = {
    c.name: c
    for c in (
        Commune("Lille", "59350", "59000", 50.6366, 3.0635),
        Commune("Roubaix", "59512", "59100", 50.6901, 3.1817),
        Commune("Tourcoing", "59599", "59200", 50.7236, 3.1609),
        Commune("Villeneuve-d'Ascq", "59009", "59650", 50.6233, 3.1450),
        Commune("Armentières", "59017", "59280", 50.6881, 2.8808),
        Commune("Seclin", "59560", "59113", 50.5486, 3.0294),
        Commune("Marcq-en-Barœul", "59378", "59700", 50.6711, 3.0972),
        Commune("Lambersart", "59328", "59130", 50.6500, 3.0250),
        Commune("Wattrelos", "59650", "59150", 50.7017, 3.2150),
        Commune("Croix", "59163", "59170", 50.6781, 3.1494),
        Commune("Loos", "59360", "59120", 50.6117, 3.0139),
        Commune("Halluin", "59279", "59250", 50.7836, 3.1256),
        Commune("Mons-en-Barœul", "59410", "59370", 50.6411, 3.1103),
        Commune("La Madeleine", "59368", "59110", 50.6558, 3.0711),
        Commune("Wasquehal", "59646", "59290", 50.6700, 3.1300),
        Commune("Ronchin", "59507", "59790", 50.6050, 3.0900),
    )
}

# French bank codes (code banque) and their BIC, for the venues' accounts.
BANKS = (
    ("30004", "BNPAFRPP"),
    ("30003", "SOGEFRPP"),
    ("20041", "PSSTFRPP"),
    ("42559", "CCOPFRPP"),
    ("10278", "CMCIFR2A"),
    ("16706", "AGRIFRPP867"),
    ("30027", "CMCIFRPP"),
    ("30002", "CRLYFRPP"),
)

# Opening hours: (weekdays, ranges), weekday 0 = Monday.
Hours = tuple[tuple[tuple[int, ...], tuple[tuple[time, time], ...]], ...]
WEEKDAYS = (0, 1, 2, 3, 4)
HOURS: dict[str, Hours] = {
    # Open late, and Saturday morning.
    "long": (
        (WEEKDAYS, ((time(8, 30), time(19, 0)),)),
        ((5,), ((time(9, 0), time(13, 0)),)),
    ),
    # Office hours, closed on Saturday.
    "office": ((WEEKDAYS, ((time(9, 0), time(18, 0)),)),),
    # Closed for lunch and on Saturday.
    "lunch_break": ((WEEKDAYS, ((time(9, 0), time(12, 30)), (time(13, 30), time(18, 0)))),),
    # Fablabs: closed on Monday, open on Saturday.
    "fablab": (
        ((1, 2, 3, 4), ((time(10, 0), time(19, 0)),)),
        ((5,), ((time(10, 0), time(17, 0)),)),
    ),
}


@dataclass(frozen=True)
class WorkspaceSpec:
    kind: str  # desk | meeting_room | private_office | lab
    name: str
    capacity: int
    booking_unit: str  # half_day | day | hour
    equipment: tuple[str, ...] = ()


def _open_space(capacity: int, name: str = "Open space") -> WorkspaceSpec:
    return WorkspaceSpec("desk", name, capacity, "half_day", ("screen", "docking_station"))


def _quiet_desks(capacity: int) -> WorkspaceSpec:
    return WorkspaceSpec("desk", "Postes au calme", capacity, "day", ("screen", "standing_desk"))


def _room(name: str, capacity: int) -> WorkspaceSpec:
    return WorkspaceSpec(
        "meeting_room", name, capacity, "hour", ("screen", "whiteboard", "video_conference")
    )


def _office(name: str, capacity: int) -> WorkspaceSpec:
    return WorkspaceSpec("private_office", name, capacity, "half_day", ("screen", "whiteboard"))


def _lab(name: str, capacity: int) -> WorkspaceSpec:
    return WorkspaceSpec(
        "lab", name, capacity, "half_day", ("3d_printer", "laser_cutter", "sewing_machine")
    )


@dataclass(frozen=True)
class VenueSpec:
    name: str
    legal_name: str
    commune: str
    address: str
    hours: str
    workspaces: tuple[WorkspaceSpec, ...]
    services: tuple[str, ...]
    description: str
    status: str = "approved"
    # Associations under the VAT franchise (art. 293 B du CGI) charge no VAT.
    charges_vat: bool = True
    postcode: str | None = None  # when not the commune's main one


VENUES: tuple[VenueSpec, ...] = (
    VenueSpec(
        "La Fabrique Solférino",
        "SCIC La Fabrique Solférino",
        "Lille",
        "112 rue Solférino",
        "long",
        (
            _open_space(16),
            _quiet_desks(6),
            _room("Salle Vauban", 10),
            _room("Salle Wazemmes", 4),
            _office("Bureau Citadelle", 3),
        ),
        ("wifi", "cafe", "printer", "accessibility", "lockers", "phone_booth", "bike_parking"),
        "Coworking coopératif entre Wazemmes et le Vieux-Lille, à deux pas du métro République.",
    ),
    VenueSpec(
        "Le Grenier de Fives",
        "Association Le Grenier de Fives",
        "Lille",
        "48 rue Pierre Legrand",
        "lunch_break",
        (_open_space(10), _room("Salle des Machines", 8)),
        ("wifi", "cafe", "kitchen", "bike_parking"),
        "Tiers-lieu associatif de quartier dans une ancienne mercerie de Fives.",
        charges_vat=False,
        postcode="59800",
    ),
    VenueSpec(
        "Comptoir Euralille",
        "Comptoir Euralille SAS",
        "Lille",
        "25 avenue Willy Brandt",
        "office",
        (_open_space(20), _quiet_desks(8), _room("Salle Flandres", 12), _room("Salle Artois", 6)),
        ("wifi", "cafe", "printer", "accessibility", "meeting_rooms", "lockers"),
        "Plateau de coworking face aux gares Lille-Flandres et Lille-Europe.",
        postcode="59777",
    ),
    VenueSpec(
        "L'Atelier de l'Épeule",
        "Association L'Atelier de l'Épeule",
        "Roubaix",
        "72 rue de l'Épeule",
        "fablab",
        (_lab("Fablab", 8), _open_space(6, "Coin bureau")),
        ("wifi", "cafe", "fablab", "accessibility"),
        "Fablab et atelier partagé dans une ancienne filature du quartier de l'Épeule.",
        charges_vat=False,
    ),
    VenueSpec(
        "Le Quai des Filatures",
        "Quai des Filatures SARL",
        "Roubaix",
        "103 boulevard Gambetta",
        "long",
        (_open_space(14), _room("Salle Motte-Bossut", 10), _office("Bureau Canal", 4)),
        ("wifi", "cafe", "printer", "parking", "accessibility"),
        "Coworking lumineux sous les sheds d'une usine textile réhabilitée.",
    ),
    VenueSpec(
        "Le Tissage",
        "SCIC Le Tissage",
        "Tourcoing",
        "28 rue de Lille",
        "lunch_break",
        (_open_space(12), _room("Salle Navette", 6)),
        ("wifi", "cafe", "kitchen", "printer"),
        "Tiers-lieu coopératif du centre de Tourcoing, à cinq minutes du métro.",
    ),
    VenueSpec(
        "La Plaine Numérique",
        "La Plaine Numérique SAS",
        "Tourcoing",
        "9 place de la Victoire",
        "office",
        (_open_space(18), _quiet_desks(4), _room("Salle Studio", 8), _office("Bureau Régie", 2)),
        ("wifi", "cafe", "meeting_rooms", "accessibility", "lockers"),
        "Espace de travail des métiers de l'image, près de la gare de Tourcoing.",
    ),
    VenueSpec(
        "Campus du Triolo",
        "Association Campus du Triolo",
        "Villeneuve-d'Ascq",
        "15 boulevard de Valmy",
        "long",
        (_open_space(15), _lab("Fablab du Triolo", 10), _room("Salle Cousinerie", 12)),
        ("wifi", "cafe", "fablab", "bike_parking", "accessibility", "showers"),
        "Tiers-lieu étudiant et associatif, entre la cité scientifique et le Triolo.",
    ),
    VenueSpec(
        "La Manufacture d'Armentières",
        "La Manufacture d'Armentières SARL",
        "Armentières",
        "41 rue Nationale",
        "lunch_break",
        (_open_space(8), _room("Salle de la Lys", 6)),
        ("wifi", "cafe", "printer", "parking"),
        "Coworking du centre-ville d'Armentières, à dix minutes de la gare.",
    ),
    VenueSpec(
        "Le Préau de Seclin",
        "Association Le Préau",
        "Seclin",
        "7 rue de Burgault",
        "office",
        (_open_space(8), _room("Salle du Mélantois", 8)),
        ("wifi", "cafe", "parking", "accessibility"),
        "Ancienne école devenue tiers-lieu : coworking, ateliers et salle de réunion.",
        charges_vat=False,
    ),
    VenueSpec(
        "Les Bureaux du Croisé",
        "Les Bureaux du Croisé SAS",
        "Marcq-en-Barœul",
        "64 avenue Foch",
        "long",
        (
            _open_space(12),
            _quiet_desks(6),
            _room("Salle Laroche", 10),
            _office("Bureau Pont", 2),
            _office("Bureau Marcq", 4),
        ),
        ("wifi", "cafe", "printer", "parking", "accessibility", "phone_booth"),
        "Centre d'affaires et coworking près du Croisé-Laroche, tramway au pied.",
    ),
    VenueSpec(
        "Le Cercle de l'Hippodrome",
        "Le Cercle de l'Hippodrome SARL",
        "Lambersart",
        "18 avenue de l'Hippodrome",
        "office",
        (_open_space(10), _room("Salle Canteleu", 8)),
        ("wifi", "cafe", "bike_parking", "kitchen"),
        "Maison de maître transformée en coworking, jardin et terrasse.",
    ),
    VenueSpec(
        "La Ruche de Wattrelos",
        "Association La Ruche",
        "Wattrelos",
        "22 rue Carnot",
        "lunch_break",
        (_open_space(8), _room("Salle du Laboureur", 6)),
        ("wifi", "cafe", "kitchen", "accessibility"),
        "Tiers-lieu de proximité : coworking, médiation numérique et café associatif.",
        charges_vat=False,
    ),
    VenueSpec(
        "Le Vivier",
        "Le Vivier SCOP",
        "Croix",
        "96 rue Jean-Jaurès",
        "office",
        (_open_space(10), _room("Salle Barbieux", 8), _office("Bureau Villa", 3)),
        ("wifi", "cafe", "printer", "bike_parking"),
        "Coworking à deux pas du parc Barbieux et de la villa Cavrois.",
    ),
    VenueSpec(
        "L'Usine à Projets",
        "Association L'Usine à Projets",
        "Loos",
        "130 rue du Maréchal Foch",
        "fablab",
        (_lab("Atelier", 6), _open_space(8), _room("Salle Clémenceau", 6)),
        ("wifi", "cafe", "fablab", "parking"),
        "Fablab, ressourcerie et coworking dans une ancienne menuiserie.",
        charges_vat=False,
    ),
    VenueSpec(
        "Le Belvédère",
        "Le Belvédère SARL",
        "Halluin",
        "57 rue de Lille",
        "office",
        (_open_space(6), _room("Salle de la Lys", 6)),
        ("wifi", "cafe", "parking"),
        "Petit coworking de la frontière belge, avec parking.",
    ),
    VenueSpec(
        "Le Fort de Mons",
        "Association Le Fort",
        "Mons-en-Barœul",
        "5 rue du Général de Gaulle",
        "lunch_break",
        (_open_space(8), _room("Salle Europe", 10)),
        ("wifi", "cafe", "accessibility", "kitchen"),
        "Tiers-lieu culturel : coworking en journée, concerts le soir.",
        charges_vat=False,
    ),
    # Not open to bookings: two applications waiting for the network, one suspension.
    VenueSpec(
        "Tiers-lieu du Romarin",
        "Association du Romarin",
        "La Madeleine",
        "80 rue du Général de Gaulle",
        "office",
        (_open_space(6), _room("Salle Romarin", 6)),
        ("wifi", "cafe"),
        "Projet de tiers-lieu de quartier (candidature en cours d'examen).",
        status="applied",
        charges_vat=False,
    ),
    VenueSpec(
        "Le Potager Partagé",
        "Le Potager Partagé SAS",
        "Wasquehal",
        "210 avenue de Flandre",
        "office",
        (_open_space(10),),
        ("wifi", "cafe", "parking"),
        "Coworking et jardin partagé (candidature en cours d'examen).",
        status="applied",
    ),
    VenueSpec(
        "Café Ronchinois",
        "Association Café Ronchinois",
        "Ronchin",
        "12 avenue Jean Jaurès",
        "lunch_break",
        (_open_space(6),),
        ("wifi", "cafe"),
        "Café associatif avec quelques postes de travail (suspendu : travaux).",
        status="suspended",
        charges_vat=False,
    ),
)


# Prices per unit in cents; a venue's price is the network's purchase price.
ORGANISATION_CARD = {
    ("desk", "half_day"): 1200,
    ("desk", "day"): 2000,
    ("meeting_room", "hour"): 1500,
    ("private_office", "half_day"): 2200,
    ("private_office", "day"): 3800,
    ("lab", "half_day"): 2500,
    ("lab", "day"): 4200,
}
# The card before this year's prices, kept to show that rates are history.
PREVIOUS_ORGANISATION_CARD = {
    ("desk", "half_day"): 1000,
    ("desk", "day"): 1800,
    ("meeting_room", "hour"): 1400,
    ("private_office", "half_day"): 2000,
    ("private_office", "day"): 3500,
    ("lab", "half_day"): 2200,
    ("lab", "day"): 3900,
}
# The company negotiated its desks.
COMPANY_OVERRIDE = {("desk", "half_day"): 1100, ("desk", "day"): 1900}
# Roughly three quarters of the organisation price goes to the venue.
VENUE_SHARE = Decimal("0.75")
# Venues set their own price, within a few percent of the usual share.
PRICE_SPREAD = (Decimal("0.95"), Decimal(1), Decimal(1), Decimal("1.05"))
UNITS_BY_KIND = {
    "desk": ("half_day", "day"),
    "private_office": ("half_day", "day"),
    "lab": ("half_day", "day"),
    "meeting_room": ("hour",),
}


@dataclass(frozen=True)
class OrganisationSpec:
    key: str
    name: str
    kind: str
    siren: str
    billing_address: str
    billing_email: str
    email_domain: str
    agents: int
    chorus_service_code: str | None = None
    chorus_engagement_number: str | None = None
    monthly_allowance_units: int = 8


ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    OrganisationSpec(
        "mel",
        "Métropole Européenne de Lille",
        "public_body",
        "200093201",
        "2 boulevard des Cités Unies, CS 70043, 59040 Lille Cedex",
        "factures@mel.demo.test",
        "mel.demo.test",
        agents=15,
        chorus_service_code="DRH-TELETRAVAIL",
        chorus_engagement_number="EJ2026-004518",
        monthly_allowance_units=10,
    ),
    OrganisationSpec(
        "roubaix",
        "Ville de Roubaix",
        "public_body",
        "215905126",
        "Hôtel de Ville, 17 Grand'Place, 59100 Roubaix",
        "comptabilite@ville-roubaix.demo.test",
        "ville-roubaix.demo.test",
        agents=9,
        chorus_service_code="RH-MOBILITE",
    ),
    OrganisationSpec(
        "company",
        "Lumen Conseil",
        "company",
        "",  # generated
        "165 avenue de Bretagne, 59000 Lille",
        "compta@lumen-conseil.demo.test",
        "lumen-conseil.demo.test",
        agents=6,
        monthly_allowance_units=6,
    ),
)

FIRST_NAMES = (
    "Camille", "Julie", "Thomas", "Nicolas", "Léa", "Manon", "Hugo", "Lucas", "Sarah", "Inès",
    "Mehdi", "Yasmine", "Antoine", "Pauline", "Mathilde", "Romain", "Élodie", "Karim", "Fatou",
    "Jérôme", "Sophie", "Aurélie", "Maxime", "Clément", "Chloé", "Emma", "Nathalie", "Sébastien",
    "Amandine", "Bastien", "Océane", "Quentin", "Anaïs", "Rachid", "Céline", "Benoît",
)  # fmt: skip
LAST_NAMES = (
    "Dubois", "Lefebvre", "Leroy", "Dupont", "Lemaire", "Delattre", "Vandenberghe", "Deschamps",
    "Desmet", "Vanhoutte", "Lecomte", "Deleplanque", "Caron", "Delannoy", "Duhamel", "Bernard",
    "Martin", "Petit", "Duchêne", "Pruvost", "Delcroix", "Verhaeghe", "Hennebelle", "Carpentier",
    "Dhalluin", "Lemoine", "Wattel", "Delobel", "Bonte", "Mahieu", "Benali", "Haddad", "Nguyen",
    "Diallo", "Kaci", "Mendes",
)  # fmt: skip
