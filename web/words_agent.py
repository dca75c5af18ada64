"""Words of the agent's search page: near a commune, rooms by the hour, the results' map."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "find.near": ("Près de", "Near"),
    "find.near.hint": (
        "Une commune du réseau : choisissez-la dans la liste ou tapez son nom.",
        "A town of the network: pick it from the list or type its name.",
    ),
    "find.radius": ("Distance", "Distance"),
    "find.radius.commune": ("Dans la commune seulement", "In that town only"),
    "find.radius.km": ("Jusqu'à {km} km", "Up to {km} km"),
    "find.start": ("De", "From"),
    "find.end": ("À", "To"),
    "find.hours.legend": ("Horaires de la salle", "Room hours"),
    "find.hours.hint": (
        "Les salles de réunion se réservent à l'heure, par demi-heures (hh:00 ou hh:30).",
        "Meeting rooms are booked by the hour, in half-hours (hh:00 or hh:30).",
    ),
    "find.slot.hint": (
        "Pour les postes, bureaux et ateliers.",
        "For desks, offices and labs.",
    ),
    "find.error.near": (
        "Aucun lieu du réseau dans cette commune. Choisissez une commune de la liste.",
        "No place of the network in that town. Choose a town from the list.",
    ),
    "find.error.radius": (
        "Choisissez une distance de la liste.",
        "Choose a distance from the list.",
    ),
    "find.error.time": (
        "Donnez une heure au format hh:mm.",
        "Give a time as hh:mm.",
    ),
    "find.error.half-hour": (
        "Choisissez une heure pile ou une demi-heure (hh:00 ou hh:30).",
        "Choose a whole or half hour (hh:00 or hh:30).",
    ),
    "find.error.order": (
        "L'heure de fin doit venir après l'heure de début.",
        "The end must come after the start.",
    ),
    "find.error.closed": (
        "Aucun lieu n'est ouvert sur cette plage horaire ce jour-là.",
        "No place is open for these hours that day.",
    ),
    "find.rooms.count": (
        "{count} lieu(x) avec une salle libre",
        "{count} place(s) with a free room",
    ),
    "find.rooms.none": (
        "Aucune salle libre sur cette plage horaire. Essayez d'autres horaires ou une autre commune.",
        "No room is free for these hours. Try other hours or another town.",
    ),
    "find.km": ("à {km} km", "{km} km away"),
    "find.map": ("Carte des lieux trouvés", "Map of the places found"),
    "find.map.desc": (
        "Chaque point numéroté renvoie au lieu du même numéro dans la liste ; "
        "la croix marque le centre de {commune}.",
        "Each numbered point links to the place with the same number in the list; "
        "the cross marks the centre of {commune}.",
    ),
    "find.map.desc.plain": (
        "Chaque point numéroté renvoie au lieu du même numéro dans la liste.",
        "Each numbered point links to the place with the same number in the list.",
    ),
    "find.map.centre": ("centre de {commune}", "centre of {commune}"),
    "find.map.numbers": (
        "les numéros suivent l'ordre de la liste, du plus proche au plus loin",
        "numbers follow the list, nearest first",
    ),
    "find.map.numbers.plain": (
        "les numéros suivent l'ordre de la liste",
        "numbers follow the list",
    ),
    "find.map.pin": ("{number}. {name}, {commune}", "{number}. {name}, {commune}"),
}
