"""The door scanner's words (French, English); the `scan.js.*` ones are also handed to its script."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "nav.scan": ("Scanner", "Scanner"),
    "scan.title": ("Scanner les pass", "Scan passes"),
    "scan.venue": ("Accueil de {venue}", "Front desk of {venue}"),
    "scan.camera.title": ("Caméra", "Camera"),
    "scan.camera.start": ("Activer la caméra", "Start the camera"),
    "scan.camera.stop": ("Arrêter la caméra", "Stop the camera"),
    "scan.camera.help": (
        "Présentez le QR code du pass devant la caméra.",
        "Hold the pass's QR code in front of the camera.",
    ),
    "scan.camera.label": ("Image de la caméra", "Camera picture"),
    "scan.manual.title": ("Saisie manuelle", "Manual entry"),
    "scan.manual.token": ("Code du pass (commence par TL1:)", "Pass code (starts with TL1:)"),
    "scan.manual.submit": ("Vérifier le pass", "Check the pass"),
    "scan.error.token": (
        "Saisissez ou collez le code du pass.",
        "Type or paste the pass code.",
    ),
    "scan.error.too_long": (
        "Ce code est trop long pour un pass.",
        "This code is too long for a pass.",
    ),
    "scan.arrivals.title": ("Arrivées du jour", "Today's arrivals"),
    "scan.arrivals.none": ("Aucune réservation aujourd'hui.", "No booking today."),
    "scan.arrivals.count": (
        "{arrived} arrivé(s) sur {total} attendu(s)",
        "{arrived} arrived of {total} expected",
    ),
    "scan.device.title": ("Appareil d'accueil", "Door device"),
    "scan.device.intro": (
        "Cet appareil n'a pas de compte personnel : collez une fois le jeton d'appareil créé par "
        "le responsable du lieu. Il est gardé sur cet appareil jusqu'à ce que vous l'oubliiez.",
        "This device has no personal account: paste once the device token made by the venue's "
        "admin. It is kept on this device until you forget it.",
    ),
    "scan.device.token": (
        "Jeton d'appareil (commence par tldev_)",
        "Device token (starts with tldev_)",
    ),
    "scan.device.submit": ("Ouvrir le scanner", "Open the scanner"),
    "scan.device.forget": ("Oublier cet appareil", "Forget this device"),
    "scan.device.signin": (
        "Vous êtes membre de l'équipe ? Connectez-vous avec votre compte.",
        "Staff member? Sign in with your account.",
    ),
    "scan.device.error.required": ("Collez le jeton d'appareil.", "Paste the device token."),
    "scan.device.error.unknown": (
        "Ce jeton est inconnu ou a été révoqué.",
        "This token is unknown or revoked.",
    ),
    "scan.device.forgotten": ("Cet appareil a été oublié.", "This device was forgotten."),
    # Also used by the script (offline too): kept in the page.
    "scan.js.admitted": ("Entrée autorisée", "Admitted"),
    "scan.js.refused": ("Entrée refusée", "Refused"),
    "scan.js.offline_checked": ("vérifié hors ligne", "checked offline"),
    "scan.js.next": ("Scanner le suivant", "Scan the next one"),
    "scan.js.walk_in": ("Sans réservation : place attribuée", "No booking: seat given"),
    "scan.js.no_booking_known": (
        "Pas de réservation connue : le serveur attribuera une place",
        "No known booking: the server will give a seat",
    ),
    "scan.js.online": ("En ligne", "Online"),
    "scan.js.offline": (
        "Hors ligne : vérification sur l'appareil",
        "Offline: checked on this device",
    ),
    "scan.js.waiting": ("{count} en attente", "{count} waiting"),
    "scan.js.waiting.title": ("Scans en attente d'envoi", "Scans waiting to be sent"),
    "scan.js.synced.title": ("Réponses du serveur", "The server's answers"),
    "scan.js.synced.agree": ("confirmé par le serveur", "confirmed by the server"),
    "scan.js.synced.anomaly": (
        "le serveur n'est pas d'accord : à revoir par le réseau",
        "the server disagrees: to be reviewed by the network",
    ),
    "scan.js.arrived": ("arrivé à {time}", "arrived at {time}"),
    "scan.js.expected": ("attendu", "expected"),
    "scan.js.pending": (
        "arrivé à {time} (en attente d'envoi)",
        "arrived at {time} (waiting to be sent)",
    ),
    "scan.js.session": (
        "Session expirée : reconnectez-vous. Les scans en attente sont gardés.",
        "Session expired: sign in again. Waiting scans are kept.",
    ),
    "scan.js.camera_denied": (
        "La caméra n'est pas disponible : utilisez la saisie manuelle.",
        "The camera is not available: use manual entry.",
    ),
    "scan.js.error": (
        "Le serveur a refusé la demande : {detail}",
        "The server refused the request: {detail}",
    ),
    "scan.js.unknown_holder": (
        "Titulaire inconnu de cet appareil",
        "Holder unknown to this device",
    ),
    # Refusal reasons (passes.verify.Reason, then the server's own in passes.scans).
    "scan.reason.malformed": (
        "Ce n'est pas un pass Tiers-Lieux (code illisible).",
        "This is not a Tiers-Lieux pass (unreadable code).",
    ),
    "scan.reason.unsupported_version": (
        "Version de pass inconnue : mettez à jour le scanner.",
        "Unknown pass version: update the scanner.",
    ),
    "scan.reason.unknown_key": (
        "Pass signé par une clé inconnue (faux pass ou clés à mettre à jour).",
        "Pass signed by an unknown key (forged, or keys to update).",
    ),
    "scan.reason.bad_signature": (
        "Signature invalide : pass falsifié.",
        "Invalid signature: forged pass.",
    ),
    "scan.reason.key_expired": ("La clé de ce pass a expiré.", "This pass's key has expired."),
    "scan.reason.not_yet_valid": (
        "Ce pass n'est pas encore valable.",
        "This pass is not valid yet.",
    ),
    "scan.reason.expired": ("Ce pass a expiré.", "This pass has expired."),
    "scan.reason.revoked": ("Ce pass a été révoqué.", "This pass has been revoked."),
    "scan.reason.suspended": ("Ce pass est suspendu.", "This pass is suspended."),
    "scan.reason.unknown_pass": ("Pass inconnu du réseau.", "Pass unknown to the network."),
    "scan.reason.agent_inactive": (
        "Le compte de cette personne est désactivé.",
        "This person's account is deactivated.",
    ),
    "scan.reason.venue_closed": ("Le lieu est fermé aujourd'hui.", "The venue is closed today."),
    "scan.reason.no_booking_no_seat": (
        "Pas de réservation et plus de place libre.",
        "No booking and no free seat.",
    ),
    "scan.reason.allowance_exceeded": (
        "Forfait du mois épuisé : pas d'entrée sans réservation.",
        "Monthly allowance used up: no entry without a booking.",
    ),
    "scan.reason.booked_elsewhere": (
        "Cette personne a déjà une réservation ailleurs sur ce créneau.",
        "This person is already booked elsewhere at that time.",
    ),
    "scan.reason.not_checked_in": (
        "Cette personne n'est pas entrée.",
        "This person has not checked in.",
    ),
    # Refused scans (service/kernel/problems.py types), for the form without JavaScript.
    "problem.scan-id-reused": (
        "Ce scan a déjà été enregistré autrement : scannez de nouveau.",
        "This scan was already recorded differently: scan again.",
    ),
    "problem.too-many-scans": (
        "Trop de scans en une seconde : attendez un instant.",
        "Too many scans in one second: wait a moment.",
    ),
}
