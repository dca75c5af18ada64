"""The organisation console's words, French first and English."""

from __future__ import annotations

WORDS: dict[str, tuple[str, str]] = {
    "nav.org.agents": ("Agents", "Agents"),
    "nav.org.policy": ("Forfaits et règles", "Allowances and policy"),
    "nav.org.usage": ("Réservations", "Bookings"),
    "nav.org.invoices": ("Factures", "Invoices"),
    "org.done.deactivated": (
        "Agent désactivé : son pass est révoqué, son historique est conservé.",
        "Agent deactivated: their pass is revoked, their history is kept.",
    ),
    "org.done.reactivated": ("Agent réactivé.", "Agent reactivated."),
    "org.done.policy_saved": ("Règles enregistrées.", "Policy saved."),
    # Errors next to fields
    "org.error.email": ("Écrivez une adresse e-mail valide.", "Write a valid email address."),
    "org.error.name": (
        "Indiquez le nom (200 caractères au plus).",
        "Give the name (at most 200 characters).",
    ),
    "org.error.number": (
        "Un nombre entier de {low} à {high}.",
        "A whole number from {low} to {high}.",
    ),
    "org.error.required": ("Ce champ est obligatoire.", "This field is required."),
    "org.error.length": ("{high} caractères au plus.", "At most {high} characters."),
    "org.error.duplicate": (
        "Un compte existe déjà avec cette adresse e-mail.",
        "An account already exists with this email address.",
    ),
    "org.error.file": ("Choisissez un fichier CSV.", "Choose a CSV file."),
    "org.error.month": ("Choisissez un mois valide.", "Choose a valid month."),
    # Agents
    "org.agents.title": ("Agents", "Agents"),
    "org.agents.search": ("Chercher un agent (nom ou e-mail)", "Find an agent (name or email)"),
    "org.agents.search.submit": ("Chercher", "Search"),
    "org.agents.count": ("{count} agent(s)", "{count} agent(s)"),
    "org.agents.name": ("Nom", "Name"),
    "org.agents.email": ("Adresse e-mail", "Email address"),
    "org.agents.allowance": ("Forfait mensuel", "Monthly allowance"),
    "org.agents.allowance.own": ("{units} demi-journée(s)", "{units} half-day(s)"),
    "org.agents.allowance.default": ("celui de l'organisation", "the organisation's"),
    "org.agents.status": ("État", "Status"),
    "org.agents.active": ("Actif", "Active"),
    "org.agents.pending": ("Invitation envoyée", "Invitation sent"),
    "org.agents.inactive": ("Désactivé", "Deactivated"),
    "org.agents.deactivate": ("Désactiver", "Deactivate"),
    "org.agents.deactivate.label": ("Désactiver {name}", "Deactivate {name}"),
    "org.agents.reactivate": ("Réactiver", "Reactivate"),
    "org.agents.reactivate.label": ("Réactiver {name}", "Reactivate {name}"),
    "org.agents.none": ("Aucun agent.", "No agent."),
    "org.invite.title": ("Inviter un agent", "Invite an agent"),
    "org.invite.allowance": (
        "Forfait propre (demi-journées par mois, facultatif)",
        "Own allowance (half-days a month, optional)",
    ),
    "org.invite.submit": ("Inviter", "Invite"),
    "org.invite.done": (
        "{name} est invité(e). Transmettez-lui ce lien pour choisir son mot de passe ; il "
        "n'est affiché qu'une fois.",
        "{name} is invited. Send them this link to choose a password; it is shown only once.",
    ),
    "org.invite.link": ("Lien d'invitation", "Invitation link"),
    "org.import.title": ("Importer des agents (CSV)", "Import agents (CSV)"),
    "org.import.text": (
        "Première ligne : email,display_name et, si besoin, monthly_allowance_units "
        "(virgules ou points-virgules, UTF-8). Les lignes valides sont invitées ; les autres "
        "sont listées avec la raison.",
        "First line: email,display_name and, if needed, monthly_allowance_units (commas or "
        "semicolons, UTF-8). Valid rows are invited; the others are listed with the reason.",
    ),
    "org.import.file": ("Fichier CSV", "CSV file"),
    "org.import.submit": ("Importer", "Import"),
    "org.import.created": ("{count} agent(s) invité(s).", "{count} agent(s) invited."),
    "org.import.errors": (
        "{count} ligne(s) refusée(s) :",
        "{count} row(s) refused:",
    ),
    "org.import.row": ("Ligne", "Row"),
    "org.import.field": ("Champ", "Field"),
    "org.import.reason": ("Raison", "Reason"),
    # Policy
    "org.policy.title": ("Forfaits et règles", "Allowances and policy"),
    "org.policy.allowances": ("Forfait et réservations", "Allowance and bookings"),
    "org.policy.allowance": (
        "Forfait mensuel par agent (demi-journées)",
        "Monthly allowance per agent (half-days)",
    ),
    "org.policy.allowance.hint": (
        "Un agent peut avoir son propre forfait, fixé à son invitation.",
        "An agent may have their own allowance, set when invited.",
    ),
    "org.policy.horizon": (
        "Réservation possible jusqu'à (jours à l'avance)",
        "Booking allowed up to (days ahead)",
    ),
    "org.policy.deadline": (
        "Délai d'annulation sans frais (heures avant)",
        "Free cancellation until (hours before)",
    ),
    "org.policy.billable": ("Ce qui est facturé", "What is billed"),
    "org.policy.no_shows": (
        "Les absences (réservation non honorée)",
        "No-shows (a booking not used)",
    ),
    "org.policy.late": (
        "Les annulations tardives (après le délai)",
        "Late cancellations (past the deadline)",
    ),
    "org.policy.billing": ("Facturation", "Billing"),
    "org.policy.address": ("Adresse de facturation", "Billing address"),
    "org.policy.email": ("E-mail de facturation", "Billing email"),
    "org.policy.chorus_service": (
        "Code service Chorus Pro (facultatif)",
        "Chorus Pro service code (optional)",
    ),
    "org.policy.chorus_engagement": (
        "Numéro d'engagement Chorus Pro (facultatif)",
        "Chorus Pro commitment number (optional)",
    ),
    "org.policy.save": ("Enregistrer", "Save"),
    "org.policy.network": (
        "Le nom, le SIREN et le statut de l'organisation sont tenus par le réseau.",
        "The organisation's name, SIREN and status are kept by the network.",
    ),
    # Usage
    "org.usage.title": ("Réservations et consommation", "Bookings and usage"),
    "org.usage.month": ("Mois", "Month"),
    "org.usage.show": ("Afficher", "Show"),
    "org.usage.per_agent": ("Par agent", "Per agent"),
    "org.usage.agent": ("Agent", "Agent"),
    "org.usage.bookings": ("Réservations", "Bookings"),
    "org.usage.attended": ("Venu", "Attended"),
    "org.usage.upcoming": ("À venir", "Upcoming"),
    "org.usage.no_show": ("Absent", "No-show"),
    "org.usage.cancelled": ("Annulées", "Cancelled"),
    "org.usage.used": ("Demi-journées décomptées", "Half-days counted"),
    "org.usage.total": ("Total", "Total"),
    "org.usage.none": ("Aucune réservation ce mois-ci.", "No booking this month."),
    "org.usage.list": ("Détail des réservations", "The bookings"),
    "org.usage.list.more": (
        "Les 200 plus récentes sur {total}.",
        "The latest 200 of {total}.",
    ),
    "org.usage.date": ("Date", "Date"),
    "org.usage.where": ("Lieu", "Place"),
    "org.usage.status": ("État", "Status"),
    # Invoices
    "org.invoices.title": ("Factures", "Invoices"),
    "org.invoices.text": (
        "Chaque mois, le réseau facture les visites de vos agents. Le PDF Factur-X contient "
        "la facture électronique ; le PDF simple et le XML servent au dépôt sur Chorus Pro.",
        "Each month the network invoices your agents' visits. The Factur-X PDF holds the "
        "electronic invoice; the plain PDF and the XML are for Chorus Pro.",
    ),
    "org.invoices.count": ("{count} facture(s)", "{count} invoice(s)"),
    "org.invoices.none": ("Aucune facture pour l'instant.", "No invoice yet."),
    "org.invoices.due": ("Échéance", "Due"),
    "org.invoices.paid": ("Paiement", "Payment"),
    "org.invoices.files": ("Fichiers", "Files"),
    "org.invoices.facturx": ("PDF Factur-X", "Factur-X PDF"),
    "org.invoices.facturx.label": (
        "Facture {number} en PDF Factur-X",
        "Invoice {number} as Factur-X PDF",
    ),
    "org.invoices.plain": ("PDF simple", "Plain PDF"),
    "org.invoices.plain.label": ("Facture {number} en PDF simple", "Invoice {number} as plain PDF"),
    "org.invoices.xml": ("XML", "XML"),
    "org.invoices.xml.label": ("Facture {number} en XML (CII)", "Invoice {number} as XML (CII)"),
    "org.invoices.rendering": (
        "Les fichiers de la facture {number} sont en cours de préparation : réessayez dans "
        "quelques secondes.",
        "The files of invoice {number} are being prepared: try again in a few seconds.",
    ),
    "org.paid.paid": ("Payée", "Paid"),
    "org.paid.partial": ("Payée en partie", "Partly paid"),
    "org.paid.unpaid": ("À payer", "To pay"),
    "org.paid.overdue": ("En retard", "Overdue"),
}
