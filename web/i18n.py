"""The words of the pages, in French first and English, chosen by `?lang=` or the `lang` cookie."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LANGUAGE_COOKIE = "lang"

# key -> (French, English). Values may hold {placeholders} filled by `translate`.
_CATALOGUE: dict[str, tuple[str, str]] = {
    # Layout
    "site.name": ("Pass Tiers-Lieux", "Pass Tiers-Lieux"),
    "skip": ("Aller au contenu", "Skip to content"),
    "nav.label": ("Navigation principale", "Main navigation"),
    "nav.find": ("Trouver un poste", "Find a desk"),
    "nav.bookings": ("Mes réservations", "My bookings"),
    "nav.pass": ("Mon pass", "My pass"),
    "nav.account": ("Mon compte", "My account"),
    "signout": ("Se déconnecter", "Sign out"),
    "language.switch": ("English", "Français"),
    "language.switch.label": ("Read in English", "Lire en français"),
    "footer": (
        "Réseau des tiers-lieux · un pass pour travailler près de chez soi",
        "Network of third places · one pass to work near home",
    ),
    # Home and sign-in
    "home.title": ("Connexion", "Sign in"),
    "home.intro": (
        "Réservez un poste de travail dans un tiers-lieu près de chez vous et présentez votre "
        "pass à l'accueil.",
        "Book a desk in a third place near home and show your pass at the door.",
    ),
    "home.email": ("Adresse e-mail", "Email address"),
    "home.password": ("Mot de passe", "Password"),
    "home.submit": ("Se connecter", "Sign in"),
    "home.signed_out": ("Vous êtes déconnecté.", "You are signed out."),
    "home.error.credentials": (
        "L'adresse e-mail ou le mot de passe est incorrect.",
        "The email address or the password is wrong.",
    ),
    "home.error.throttled": (
        "Trop de tentatives : réessayez dans {minutes} minute(s).",
        "Too many attempts: try again in {minutes} minute(s).",
    ),
    "home.error.required": ("Ce champ est obligatoire.", "This field is required."),
    "form.errors": (
        "Le formulaire contient une erreur :",
        "The form has an error:",
    ),
    # Account
    "account.title": ("Mon compte", "My account"),
    "account.name": ("Nom", "Name"),
    "account.email": ("Adresse e-mail", "Email address"),
    "account.role": ("Rôle", "Role"),
    "role.agent": ("Agent", "Agent"),
    "role.venue_staff": ("Accueil d'un lieu", "Venue staff"),
    "role.venue_admin": ("Responsable d'un lieu", "Venue admin"),
    "role.org_admin": ("Administrateur d'organisation", "Organisation admin"),
    "role.network_admin": ("Administrateur du réseau", "Network admin"),
    "account.api": (
        "Les autres consoles arrivent ; en attendant, l'API est décrite sur {link}.",
        "The other consoles are coming; meanwhile the API is described at {link}.",
    ),
    # Errors
    "error.title.403": ("Accès refusé", "Access denied"),
    "error.text.403": (
        "Votre rôle ne permet pas d'ouvrir cette page.",
        "Your role may not open this page.",
    ),
    "error.title.404": ("Page introuvable", "Page not found"),
    "error.text.404": ("Cette page n'existe pas ou plus.", "This page does not exist."),
    "error.back": ("Retour à mon accueil", "Back to my home page"),
    # Agent: find
    "find.title": ("Trouver un poste", "Find a desk"),
    "find.date": ("Date", "Date"),
    "find.slot": ("Créneau", "Slot"),
    "slot.morning": ("Matin", "Morning"),
    "slot.afternoon": ("Après-midi", "Afternoon"),
    "slot.day": ("Journée", "Whole day"),
    "find.kind": ("Type d'espace", "Kind of space"),
    "kind.desk": ("Poste en espace partagé", "Shared desk"),
    "kind.meeting_room": ("Salle de réunion", "Meeting room"),
    "kind.private_office": ("Bureau fermé", "Private office"),
    "kind.lab": ("Atelier", "Lab"),
    "find.commune": ("Commune", "Town"),
    "find.commune.any": ("Toutes les communes", "Every town"),
    "find.error.date": ("Choisissez une date valide.", "Choose a valid date."),
    "find.error.past": ("Cette date est déjà passée.", "This date is already past."),
    "find.error.slot": ("Choisissez un créneau de la liste.", "Choose a slot from the list."),
    "find.error.kind": ("Choisissez un type d'espace de la liste.", "Choose a kind from the list."),
    "find.submit": ("Chercher", "Search"),
    "find.results": ("Lieux disponibles", "Available places"),
    "find.results.count": (
        "{count} lieu(x) avec un poste libre",
        "{count} place(s) with a free desk",
    ),
    "find.none": (
        "Aucun lieu n'a de poste libre pour ce créneau. Essayez une autre date ou commune.",
        "No place has a free desk for this slot. Try another date or town.",
    ),
    "find.free": ("{free} place(s) libre(s) sur {capacity}", "{free} free of {capacity}"),
    "find.book": ("Réserver", "Book"),
    "find.book.label": ("Réserver {workspace} à {venue}", "Book {workspace} at {venue}"),
    "find.hours": ("de {start} à {end}", "from {start} to {end}"),
    "find.distance": ("à {km} km", "{km} km away"),
    "allowance.title": ("Mon forfait ce mois-ci", "My allowance this month"),
    "allowance.text": (
        "{used} demi-journée(s) utilisée(s) sur {allowed}",
        "{used} of {allowed} half-days used",
    ),
    # Agent: bookings
    "bookings.title": ("Mes réservations", "My bookings"),
    "bookings.upcoming": ("À venir", "Upcoming"),
    "bookings.past": ("Passées", "Past"),
    "bookings.none": ("Aucune réservation.", "No booking."),
    "bookings.done.booked": (
        "Réservation confirmée. Présentez votre pass à l'accueil.",
        "Booking confirmed. Show your pass at the door.",
    ),
    "bookings.done.cancelled": ("Réservation annulée.", "Booking cancelled."),
    "bookings.cancel": ("Annuler", "Cancel"),
    "bookings.cancel.label": (
        "Annuler la réservation du {date} à {venue}",
        "Cancel the booking on {date} at {venue}",
    ),
    "bookings.cancel.title": ("Annuler cette réservation ?", "Cancel this booking?"),
    "bookings.cancel.confirm": ("Oui, annuler la réservation", "Yes, cancel the booking"),
    "bookings.cancel.keep": ("Non, la garder", "No, keep it"),
    "bookings.cancel.late": (
        "Passé le délai de votre organisation, une annulation peut être décomptée de votre forfait.",
        "Past your organisation's deadline, a cancellation may count against your allowance.",
    ),
    "bookings.ics": ("Ajouter à mon agenda", "Add to my calendar"),
    "bookings.ics.label": (
        "Ajouter à mon agenda la réservation du {date} à {venue}",
        "Add the booking on {date} at {venue} to my calendar",
    ),
    "bookings.feed.title": ("Abonnement agenda", "Calendar subscription"),
    "bookings.feed.text": (
        "Abonnez votre agenda à vos réservations : elles s'y mettent à jour toutes seules. "
        "L'adresse est secrète et n'est montrée qu'une fois.",
        "Subscribe your calendar to your bookings: they update by themselves. The address is "
        "secret and shown only once.",
    ),
    "bookings.feed.create": ("Créer mon adresse d'abonnement", "Create my subscription address"),
    "bookings.feed.url": ("Votre adresse d'abonnement", "Your subscription address"),
    "bookings.feed.open": ("S'abonner dans mon agenda", "Subscribe in my calendar"),
    "bookings.feed.count": (
        "{count} abonnement(s) actif(s).",
        "{count} active subscription(s).",
    ),
    "bookings.when": ("Quand", "When"),
    "bookings.where": ("Où", "Where"),
    "bookings.status": ("État", "Status"),
    "bookings.actions": ("Actions", "Actions"),
    "status.confirmed": ("Confirmée", "Confirmed"),
    "status.checked_in": ("Arrivé", "Checked in"),
    "status.completed": ("Effectuée", "Completed"),
    "status.cancelled": ("Annulée", "Cancelled"),
    "status.late_cancelled": ("Annulée tardivement", "Cancelled late"),
    "status.no_show": ("Absent", "No-show"),
    # Agent: pass
    "pass.title": ("Mon pass", "My pass"),
    "pass.qr.alt": (
        "QR code du pass de {name}, à présenter à l'accueil",
        "QR code of {name}'s pass, to show at the door",
    ),
    "pass.holder": ("Titulaire", "Holder"),
    "pass.serial": ("Numéro", "Number"),
    "pass.valid": ("Valable du {start} au {end}", "Valid from {start} to {end}"),
    "pass.status": ("État", "Status"),
    "pass.status.active": ("Actif", "Active"),
    "pass.status.suspended": ("Suspendu", "Suspended"),
    "pass.offline": (
        "Cette page reste disponible sans réseau une fois ouverte.",
        "This page stays available without network once opened.",
    ),
    "pass.next": ("Prochaine réservation", "Next booking"),
    # Domain refusals, by problem type (service/kernel/problems.py)
    "problem.capacity-exhausted": (
        "Plus aucune place libre pour ce créneau.",
        "No seat is left for this slot.",
    ),
    "problem.room-taken": ("Cette salle est déjà réservée.", "This room is already booked."),
    "problem.agent-already-booked": (
        "Vous avez déjà une réservation sur ce créneau.",
        "You already have a booking at that time.",
    ),
    "problem.allowance-exceeded": (
        "Cette réservation dépasserait votre forfait du mois.",
        "This booking would exceed your monthly allowance.",
    ),
    "problem.outside-opening-hours": (
        "Le lieu est fermé sur ce créneau.",
        "The place is closed at that time.",
    ),
    "problem.venue-closed": ("Le lieu est fermé ce jour-là.", "The place is closed that day."),
    "problem.in-the-past": ("Ce créneau est déjà passé.", "This slot is already past."),
    "problem.beyond-horizon": (
        "Votre organisation ne permet pas de réserver si loin.",
        "Your organisation does not allow booking that far ahead.",
    ),
    "problem.inactive": ("Votre compte est inactif.", "Your account is inactive."),
    "problem.workspace-unavailable": (
        "Cet espace ne peut pas être réservé.",
        "This workspace cannot be booked.",
    ),
    "problem.booking-not-cancellable": (
        "Cette réservation ne peut plus être annulée.",
        "This booking can no longer be cancelled.",
    ),
    "problem.not-found": ("Introuvable.", "Not found."),
    "problem.invalid-value": ("Valeur incorrecte.", "Invalid value."),
}


def register(words: dict[str, tuple[str, str]]) -> None:
    """Add a group of pages' words (each console keeps its own in its module)."""
    clash = words.keys() & _CATALOGUE.keys()
    if clash:
        raise ValueError(f"words defined twice: {sorted(clash)}")
    _CATALOGUE.update(words)


def choose(query: str | None, cookie: str | None) -> str:
    """The page's language: `?lang=` wins, then the cookie, then French."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def translate(lang: str, key: str, **values: Any) -> str:
    """The text of `key` in `lang`; an unknown key shows itself (a visible bug, not a crash)."""
    entry = _CATALOGUE.get(key)
    if entry is None:
        return key
    text = entry[LANGUAGES.index(lang)] if lang in LANGUAGES else entry[0]
    return text.format(**values) if values else text


def has(key: str) -> bool:
    return key in _CATALOGUE


_WEEKDAYS = (
    ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
)
_MONTHS = (
    (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
)  # fmt: skip


def format_date(lang: str, day: date) -> str:
    """A date as people write it: « mercredi 2 décembre 2026 », "Wednesday 2 December 2026"."""
    i = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{_WEEKDAYS[i][day.weekday()]} {number} {_MONTHS[i][day.month - 1]} {day.year}"


def format_month(lang: str, month: date) -> str:
    """« novembre 2026 », "November 2026"."""
    i = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    return f"{_MONTHS[i][month.month - 1]} {month.year}"


def format_time(lang: str, moment: datetime | time) -> str:
    return moment.strftime("%H h %M" if lang == "fr" else "%H:%M")
