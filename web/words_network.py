"""The network console's words (French, English) and its ways of writing months and money."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from web.i18n import format_month

NARROW_SPACE = "\u202f"
NO_BREAK_SPACE = "\u00a0"


def month_label(lang: str, month: date) -> str:
    """« novembre 2026 », "November 2026"."""
    return format_month(lang, month)


def format_money(lang: str, cents: int) -> str:
    """Cents as people read euros: « 1 234,50 € » in French, "€1,234.50" in English."""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}"
    if lang == "en":
        return f"{sign}€{grouped}.{rest:02d}"
    grouped = grouped.replace(",", NARROW_SPACE)
    return f"{sign}{grouped},{rest:02d}{NO_BREAK_SPACE}€"


def format_percent(lang: str, rate: Decimal | float) -> str:
    """A VAT rate 0.055 as « 5,5 % » / "5.5%"."""
    value = (Decimal(str(rate)) * 100).normalize()
    text = f"{value:f}"
    if lang == "en":
        return f"{text}%"
    text = text.replace(".", ",")
    return f"{text}{NO_BREAK_SPACE}%"


WORDS: dict[str, tuple[str, str]] = {
    # Menu and page titles
    "nw.nav.dashboard": ("Tableau de bord", "Dashboard"),
    "nw.nav.venues": ("Lieux", "Venues"),
    "nw.nav.rates": ("Tarifs", "Rates"),
    "nw.nav.anomalies": ("Anomalies", "Anomalies"),
    "nw.nav.close": ("Clôture", "Month close"),
    "nw.nav.invoices": ("Factures", "Invoices"),
    "nw.nav.payouts": ("Virements", "Payouts"),
    "nw.nav.admin": ("Administration", "Admin"),
    "nw.network.dashboard.title": ("Tableau de bord du réseau", "Network dashboard"),
    "nw.network.venues.title": ("Lieux et candidatures", "Venues and applications"),
    "nw.network.rates.title": ("Grilles tarifaires", "Rate cards"),
    "nw.network.anomalies.title": ("Anomalies à examiner", "Anomalies to review"),
    "nw.network.close.title": ("Clôture du mois", "Month close"),
    "nw.network.invoices.title": ("Factures et paiements", "Invoices and payments"),
    "nw.network.payouts.title": ("Virements aux lieux", "Payouts to venues"),
    "nw.network.month": ("Mois", "Month"),
    "nw.network.show": ("Afficher", "Show"),
    "nw.table.region": (
        "Tableau, défilable horizontalement sur petit écran",
        "Table, scrolls sideways on small screens",
    ),
    "nw.network.error.month": (
        "Choisissez un mois de la liste (AAAA-MM).",
        "Pick a month from the list (YYYY-MM).",
    ),
    # Dashboard
    "nw.charts.data": ("Voir les données du graphique", "See the chart's data"),
    "nw.dashboard.per_month": (
        "Visites par mois (6 mois jusqu'à {month})",
        "Visits per month (6 months to {month})",
    ),
    "nw.dashboard.per_month.desc": ("Nombre de visites par mois.", "Number of visits per month."),
    "nw.dashboard.occupancy": ("Taux d'occupation des postes partagés", "Shared desk occupancy"),
    "nw.dashboard.occupancy.desc": (
        "Places réservées sur places offertes, par mois, en demi-journées.",
        "Seats booked over seats offered, per month, in half-days.",
    ),
    "nw.dashboard.occupancy.rate": ("Occupation", "Occupancy"),
    "nw.dashboard.occupancy.seats": (
        "Détail de l'occupation : places réservées et offertes",
        "Occupancy detail: seats booked and offered",
    ),
    "nw.dashboard.seats.used": ("Places réservées", "Seats booked"),
    "nw.dashboard.seats.offered": ("Places offertes", "Seats offered"),
    "nw.dashboard.by_venue": ("Visites par lieu — {month}", "Visits by venue — {month}"),
    "nw.dashboard.by_commune": ("Visites par commune — {month}", "Visits by commune — {month}"),
    "nw.dashboard.by_organisation": (
        "Visites par organisation — {month}",
        "Visits by organisation — {month}",
    ),
    "nw.dashboard.by.desc": ("Nombre de visites du mois.", "Number of visits in the month."),
    "nw.dashboard.month": ("Mois", "Month"),
    "nw.dashboard.visits": ("Visites", "Visits"),
    "nw.dashboard.venue": ("Lieu", "Venue"),
    "nw.dashboard.commune": ("Commune", "Commune"),
    "nw.dashboard.organisation": ("Organisation", "Organisation"),
    "nw.dashboard.empty": ("Aucune visite ce mois-ci.", "No visit this month."),
    "nw.dashboard.map": ("Carte des lieux", "Map of the venues"),
    "nw.dashboard.map.desc": (
        "Chaque point est un lieu placé selon sa latitude et sa longitude ; "
        "la liste numérotée qui suit donne les mêmes lieux.",
        "Each dot is a venue placed by its latitude and longitude; "
        "the numbered list below gives the same venues.",
    ),
    "nw.venue.status.applied": ("Candidature", "Applied"),
    "nw.venue.status.approved": ("Ouvert", "Approved"),
    "nw.venue.status.suspended": ("Suspendu", "Suspended"),
    "nw.venue.status.closed": ("Fermé ou refusé", "Closed or rejected"),
    # Venues
    "nw.venues.pending": ("Candidatures en attente", "Pending applications"),
    "nw.venues.pending.none": ("Aucune candidature en attente.", "No pending application."),
    "nw.venues.contact": ("Contact", "Contact"),
    "nw.venues.services": ("Services", "Services"),
    "nw.venues.applied_on": ("Candidature du", "Applied on"),
    "nw.venues.approve": ("Approuver", "Approve"),
    "nw.venues.approve.label": ("Approuver {venue}", "Approve {venue}"),
    "nw.venues.reject": ("Refuser", "Reject"),
    "nw.venues.reject.label": ("Refuser la candidature de {venue}", "Reject {venue}'s application"),
    "nw.venues.all": ("Tous les lieux", "All venues"),
    "nw.venues.status": ("État", "Status"),
    "nw.venues.actions": ("Actions", "Actions"),
    "nw.venues.rates": ("Tarifs", "Rates"),
    "nw.venues.rates.label": ("Tarifs de {venue}", "Rates of {venue}"),
    "nw.venues.suspend": ("Suspendre", "Suspend"),
    "nw.venues.suspend.label": ("Suspendre {venue}", "Suspend {venue}"),
    "nw.venues.reinstate": ("Rouvrir", "Reinstate"),
    "nw.venues.reinstate.label": ("Rouvrir {venue}", "Reinstate {venue}"),
    "nw.venues.done.approve": (
        "Lieu approuvé : il est visible des agents.",
        "Venue approved: agents can see it.",
    ),
    "nw.venues.done.reject": ("Candidature refusée.", "Application rejected."),
    "nw.venues.done.suspend": ("Lieu suspendu.", "Venue suspended."),
    "nw.problem.invalid-status-change": (
        "Ce lieu ne peut pas passer à cet état (il a déjà changé ?).",
        "This venue cannot move to that status (has it already changed?).",
    ),
    # Rates
    "nw.rates.owner": ("Grille de", "Rate card of"),
    "nw.rates.default": ("Grille par défaut des organisations", "Organisations' default card"),
    "nw.rates.organisations": ("Organisations", "Organisations"),
    "nw.rates.venues": ("Lieux", "Venues"),
    "nw.rates.card": ("Tarifs", "Rates"),
    "nw.rates.card.help": (
        "Un tarif ne se modifie pas : un nouveau prix est un nouveau tarif, en vigueur à "
        "partir de sa date ; les visites passées gardent leur prix.",
        "A rate is never edited: a new price is a new rate, in force from its date; past "
        "visits keep their price.",
    ),
    "nw.rates.kind": ("Type d'espace", "Workspace kind"),
    "nw.rates.unit": ("Unité", "Unit"),
    "nw.rates.amount": ("Prix HT (€)", "Price excl. VAT (€)"),
    "nw.rates.amount.col": ("Prix HT", "Price excl. VAT"),
    "nw.rates.amount.hint": ("Par exemple 12,50", "For example 12.50"),
    "nw.rates.vat": ("TVA (%)", "VAT (%)"),
    "nw.rates.vat.col": ("TVA", "VAT"),
    "nw.rates.vat.hint": ("Par exemple 20 ou 5,5", "For example 20 or 5.5"),
    "nw.rates.from": ("En vigueur à partir du", "In force from"),
    "nw.rates.state": ("Situation", "State"),
    "nw.rates.state.in_force": ("En vigueur", "In force"),
    "nw.rates.state.upcoming": ("À venir", "Upcoming"),
    "nw.rates.state.replaced": ("Remplacé", "Replaced"),
    "nw.rates.none": ("Aucun tarif dans cette grille.", "No rate in this card."),
    "nw.rates.new": ("Nouveau tarif", "New rate"),
    "nw.rates.new.help": (
        "S'ajoute à la grille affichée ci-dessus.",
        "Added to the card shown above.",
    ),
    "nw.rates.add": ("Ajouter le tarif", "Add the rate"),
    "nw.rates.done": ("Tarif ajouté.", "Rate added."),
    "nw.rates.error.amount": (
        "Indiquez un prix en euros, positif, avec au plus deux décimales (ex. 12,50).",
        "Give a price in euros, zero or more, with at most two decimals (e.g. 12.50).",
    ),
    "nw.rates.error.vat": (
        "Indiquez un taux de TVA en pourcentage (ex. 20 ou 5,5).",
        "Give a VAT rate in per cent (e.g. 20 or 5.5).",
    ),
    "nw.rates.error.date": ("Indiquez une date (AAAA-MM-JJ).", "Give a date (YYYY-MM-DD)."),
    "nw.rates.error.owner": ("Choisissez une grille dans la liste.", "Pick a card from the list."),
    "nw.problem.rate-already-defined": (
        "Un tarif existe déjà pour ce type, cette unité et cette date.",
        "A rate already exists for this kind, unit and date.",
    ),
    "nw.unit.half_day": ("Demi-journée", "Half-day"),
    "nw.unit.day": ("Journée", "Day"),
    "nw.unit.hour": ("Heure", "Hour"),
    # Anomalies
    "nw.anomalies.filter": ("Filtrer les anomalies", "Filter the anomalies"),
    "nw.anomalies.status.open": ("À examiner", "To review"),
    "nw.anomalies.status.accepted": ("Acceptées", "Accepted"),
    "nw.anomalies.status.rejected": ("Rejetées", "Rejected"),
    "nw.anomalies.count": ("{count} anomalie(s).", "{count} anomal(y/ies)."),
    "nw.anomalies.agent": ("Agent", "Agent"),
    "nw.anomalies.created": ("Signalée le", "Raised on"),
    "nw.anomalies.scanned": ("Scan du", "Scanned on"),
    "nw.anomalies.offline": ("hors ligne", "offline"),
    "nw.anomalies.visit": ("Visite", "Visit"),
    "nw.anomalies.billable": ("facturable", "billable"),
    "nw.anomalies.not_billable": (
        "non facturable tant que l'anomalie n'est pas acceptée",
        "not billable until the anomaly is accepted",
    ),
    "nw.anomalies.decision": ("Décision", "Decision"),
    "nw.anomalies.comment": ("Motif de la décision", "Reason for the decision"),
    "nw.anomalies.accept": ("Accepter (facturer la visite)", "Accept (bill the visit)"),
    "nw.anomalies.reject": ("Rejeter (ne pas facturer)", "Reject (do not bill)"),
    "nw.anomalies.done.accepted": (
        "Anomalie acceptée : la visite sera facturée.",
        "Anomaly accepted: the visit will be billed.",
    ),
    "nw.anomalies.done.rejected": (
        "Anomalie rejetée : la visite ne sera pas facturée.",
        "Anomaly rejected: the visit will not be billed.",
    ),
    "nw.anomalies.error.comment": (
        "Écrivez le motif de la décision.",
        "Write the reason for the decision.",
    ),
    "nw.anomalies.error.status": ("Ce filtre n'existe pas.", "This filter does not exist."),
    "nw.problem.anomaly-already-decided": (
        "Cette anomalie a déjà été tranchée.",
        "This anomaly was already decided.",
    ),
    "nw.problem.rate-still-missing": (
        "Aucun tarif n'est encore en vigueur à la date de cette visite : ajoutez le tarif "
        "du lieu ou de l'organisation, puis acceptez.",
        "No rate is in force yet on the date of this visit: add the venue's or the "
        "organisation's rate, then accept.",
    ),
    "nw.anomaly.kind.over_capacity": ("Lieu complet", "Over capacity"),
    "nw.anomaly.kind.missing_rate": ("Tarif manquant", "Missing rate"),
    "nw.anomaly.kind.revoked": ("Pass révoqué", "Revoked pass"),
    "nw.anomaly.kind.suspended": ("Pass suspendu", "Suspended pass"),
    "nw.anomaly.kind.expired": ("Pass expiré", "Expired pass"),
    "nw.anomaly.kind.over_allowance": ("Forfait mensuel dépassé", "Over the monthly allowance"),
    "nw.anomaly.kind.booked_elsewhere": ("Réservé ailleurs", "Booked elsewhere"),
    "nw.anomaly.kind.same_pass_two_venues": ("Pass utilisé dans deux lieux", "Pass at two venues"),
    "nw.anomaly.kind.venue_closed": ("Lieu fermé", "Venue closed"),
    "nw.anomaly.kind.agent_inactive": ("Agent inactif", "Agent inactive"),
    "nw.anomaly.kind.refused_but_valid": ("Refusé à tort", "Refused but valid"),
    # Month close
    "nw.close.status.title": ("État de {month}", "Status of {month}"),
    "nw.close.status.open": ("Mois ouvert : pas encore clôturé.", "Month open: not closed yet."),
    "nw.close.status.closing": ("Clôture en cours…", "Closing…"),
    "nw.close.status.queued": (
        "Clôture en cours : demandée, en attente du traitement en arrière-plan…",
        "Closing: asked for, waiting for the background worker…",
    ),
    "nw.close.status.closed": ("Mois clôturé.", "Month closed."),
    "nw.close.step": ("étape : {step}", "step: {step}"),
    "nw.close.progress.invoices": ("{count} facture(s) émise(s)", "{count} invoice(s) issued"),
    "nw.close.progress.statements": (
        "{count} relevé(s) d'autofacturation émis",
        "{count} self-billing statement(s) issued",
    ),
    "nw.close.refreshing": (
        "Cette page se met à jour toute seule toutes les {seconds} secondes.",
        "This page updates itself every {seconds} seconds.",
    ),
    "nw.close.refresh_now": ("Mettre à jour maintenant", "Update now"),
    "nw.close.dry_run": ("Simuler (sans rien émettre)", "Dry run (issues nothing)"),
    "nw.close.close": ("Clôturer {month}", "Close {month}"),
    "nw.close.dry.title": ("Simulation", "Dry run"),
    "nw.close.dry.help": (
        "Ce que la clôture émettrait maintenant ; rien n'a été enregistré.",
        "What the close would issue now; nothing was recorded.",
    ),
    "nw.close.visits": ("Visites", "Visits"),
    "nw.close.no_shows": ("Absences facturables", "Billable no-shows"),
    "nw.close.invoices.count": ("Factures", "Invoices"),
    "nw.close.statements.count": ("Relevés", "Statements"),
    "nw.close.invoiced": (
        "Facturé aux organisations (HT)",
        "Invoiced to organisations (excl. VAT)",
    ),
    "nw.close.paid_out": ("Dû aux lieux (HT)", "Owed to venues (excl. VAT)"),
    "nw.close.share": ("Part du réseau (HT)", "Network share (excl. VAT)"),
    "nw.close.result": ("Résultat de {month}", "Result of {month}"),
    "nw.close.by.organisation": ("Par organisation", "By organisation"),
    "nw.close.by.venue": ("Par lieu", "By venue"),
    "nw.close.by.commune": ("Par commune", "By commune"),
    "nw.close.col.organisation": ("Organisation", "Organisation"),
    "nw.close.col.venue": ("Lieu", "Venue"),
    "nw.close.col.commune": ("Commune", "Commune"),
    "nw.close.col.lines": ("Lignes", "Lines"),
    "nw.close.col.revenue": ("Facturé HT", "Invoiced excl. VAT"),
    "nw.close.col.payouts": ("Reversé HT", "Paid out excl. VAT"),
    "nw.close.col.share": ("Part du réseau", "Network share"),
    "nw.close.total": ("Total", "Total"),
    "nw.close.csv.organisation": (
        "Télécharger la synthèse par organisation (CSV)",
        "Download the summary by organisation (CSV)",
    ),
    "nw.close.csv.venue": (
        "Télécharger la synthèse par lieu (CSV)",
        "Download the summary by venue (CSV)",
    ),
    "nw.close.csv.commune": (
        "Télécharger la synthèse par commune (CSV)",
        "Download the summary by commune (CSV)",
    ),
    "nw.close.invoices": ("Factures émises", "Invoices issued"),
    "nw.close.statements": ("Relevés d'autofacturation", "Self-billing statements"),
    "nw.close.to_payouts": ("Préparer les virements", "Prepare the payouts"),
    "nw.close.to_invoices": ("Suivre les paiements", "Follow the payments"),
    "nw.problem.period-not-over": (
        "Ce mois n'est pas terminé : il se clôture une fois passé.",
        "This month is not over: it is closed once past.",
    ),
    "nw.problem.close-in-progress": (
        "Une clôture est déjà en cours ; réessayez quand elle est finie.",
        "A close is already running; try again when it has finished.",
    ),
    # Documents
    "nw.documents.number": ("Numéro", "Number"),
    "nw.documents.party": ("Destinataire ou émetteur", "Buyer or seller"),
    "nw.documents.excl": ("HT", "Excl. VAT"),
    "nw.documents.incl": ("TTC", "Incl. VAT"),
    "nw.documents.paid": ("Paiement", "Payment"),
    "nw.documents.paid.yes": ("Payée", "Paid"),
    "nw.documents.paid.no": ("En attente", "Unpaid"),
    "nw.documents.paid.partial": ("Partiel ({amount})", "Partial ({amount})"),
    "nw.documents.file": ("Fichier", "File"),
    "nw.documents.pdf.label": ("PDF du document {number}", "PDF of document {number}"),
    "nw.documents.none": ("Aucun document.", "No document."),
    "nw.documents.rendering.title": ("Document en préparation", "Document being prepared"),
    "nw.documents.rendering.text": (
        "Le PDF du document {number} est en cours de fabrication ; cette page réessaie "
        "dans quelques secondes.",
        "The PDF of document {number} is being made; this page tries again in a few seconds.",
    ),
    "nw.documents.rendering.retry": ("Réessayer", "Try again"),
    # Invoices and bank
    "nw.invoices.all_months": ("Tous les mois", "Every month"),
    "nw.invoices.list": ("Factures ({count})", "Invoices ({count})"),
    "nw.bank.title": ("Importer un relevé bancaire", "Import a bank statement"),
    "nw.bank.help": (
        "CAMT.053 (XML) ou CSV avec les colonnes date;amount;reference;label. Les virements "
        "qui citent un numéro de facture sont rapprochés ; un relevé importé deux fois ne "
        "compte qu'une fois.",
        "CAMT.053 (XML) or CSV with the columns date;amount;reference;label. Transfers that "
        "quote an invoice number are matched; a statement imported twice counts once.",
    ),
    "nw.bank.file": ("Fichier du relevé", "Statement file"),
    "nw.bank.import": ("Importer", "Import"),
    "nw.bank.imported": (
        "Relevé importé : {matched} rapproché(s), {partial} partiel(s), {unmatched} non "
        "rapproché(s), {already} déjà importé(s).",
        "Statement imported: {matched} matched, {partial} partial, {unmatched} unmatched, "
        "{already} already imported.",
    ),
    "nw.bank.error.file": ("Choisissez un fichier.", "Choose a file."),
    "nw.bank.error.empty": ("Ce fichier est vide.", "This file is empty."),
    "nw.bank.error.encoding": (
        "Ce fichier n'est pas un CSV en UTF-8 ni un XML CAMT.053.",
        "This file is neither a UTF-8 CSV nor a CAMT.053 XML.",
    ),
    "nw.bank.entries.partial": ("Paiements partiels", "Partial payments"),
    "nw.bank.entries.unmatched": ("Virements non rapprochés", "Unmatched transfers"),
    "nw.bank.entries.none": ("Aucun.", "None."),
    "nw.bank.date": ("Date", "Date"),
    "nw.bank.amount": ("Montant", "Amount"),
    "nw.bank.label": ("Libellé", "Label"),
    "nw.bank.invoice": ("Facture", "Invoice"),
    # Payouts
    "nw.payouts.of": ("Virements de {month}", "Payouts of {month}"),
    "nw.payouts.prepare": ("Préparer les virements du mois", "Prepare the month's payouts"),
    "nw.payouts.sepa": (
        "Télécharger le fichier SEPA (pain.001)",
        "Download the SEPA file (pain.001)",
    ),
    "nw.payouts.help": (
        "Un virement par relevé d'autofacturation. Le fichier SEPA se dépose à la banque ; "
        "indiquez ensuite ce que la banque a fait de chaque virement.",
        "One payout per self-billing statement. Upload the SEPA file to the bank, then "
        "record what the bank did with each payout.",
    ),
    "nw.payouts.statement": ("Relevé", "Statement"),
    "nw.payouts.mark": ("Suivi bancaire", "Bank status"),
    "nw.payouts.mark.label": (
        "Nouvel état du virement à {venue}",
        "New status of the payout to {venue}",
    ),
    "nw.payouts.mark.button": (
        "Enregistrer l'état du virement à {venue}",
        "Save the status of the payout to {venue}",
    ),
    "nw.payouts.save": ("Enregistrer", "Save"),
    "nw.payouts.none": (
        "Aucun virement préparé pour ce mois (le mois est-il clôturé ?).",
        "No payout prepared for this month (is the month closed?).",
    ),
    "nw.payouts.done.prepared": ("Virements préparés.", "Payouts prepared."),
    "nw.payouts.done.sent": ("Virement marqué envoyé.", "Payout marked sent."),
    "nw.payouts.done.paid": ("Virement marqué payé.", "Payout marked paid."),
    "nw.payouts.done.failed": ("Virement marqué en échec.", "Payout marked failed."),
    "nw.payouts.error.nothing": (
        "Aucun virement de ce mois n'attend de fichier : préparez-les d'abord, ou ils sont "
        "déjà envoyés.",
        "No payout of this month is waiting for a file: prepare them first, or they are "
        "already sent.",
    ),
    "nw.payout.status.pending": ("À virer", "Pending"),
    "nw.payout.status.in_file": ("Dans un fichier SEPA", "In a SEPA file"),
    "nw.payout.status.sent": ("Envoyé", "Sent"),
    "nw.payout.status.paid": ("Payé", "Paid"),
    "nw.payout.status.failed": ("En échec", "Failed"),
}
