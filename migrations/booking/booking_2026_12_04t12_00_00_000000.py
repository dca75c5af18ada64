"""Venues brought in by import and shown in the public directory: a reference, a slug, no SIRET yet."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from migrations import execute_sql

ID = "2026-12-04T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "booking: venue reference and slug; siret and iban may wait"

# - `reference`: the stable key of a venue imported from a file that gives no SIRET (an
#   open-data export names each place by its id there); importing the same file again finds
#   the venue by it (booking/services/venue_import.py).
# - `slug`: the venue's address in the public directory (/lieux/{slug}). Given once, from the
#   name and commune, by a trigger, so every way a venue is inserted (application, import,
#   demo seed, tests) gets one; renaming the venue keeps it, so links people shared stay good.
# - `siret` and `iban` may be missing on a venue imported from an open-data file: the network
#   asks the venue for them before its first payout (billing leaves such a payout pending).
FORWARDS = r"""
ALTER TABLE venue
    ALTER COLUMN siret DROP NOT NULL,
    ALTER COLUMN iban DROP NOT NULL,
    ADD COLUMN reference varchar(100) NULL,
    ADD COLUMN slug varchar(120) NOT NULL DEFAULT '';

CREATE UNIQUE INDEX venue_reference_key ON venue (reference) WHERE reference IS NOT NULL;

CREATE FUNCTION venue_slug_base(name text, commune text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(nullif(left(trim(BOTH '-' FROM regexp_replace(
        lower(translate(name || ' ' || commune,
            'ÀÁÂÃÄÅàáâãäåÇçÈÉÊËèéêëÌÍÎÏìíîïÑñÒÓÔÕÖòóôõöÙÚÛÜùúûüÝýÿŒœÆæ’''',
            'AAAAAAaaaaaaCcEEEEeeeeIIIIiiiiNnOOOOOoooooUUUUuuuuYyyOoAa  ')),
        '[^a-z0-9]+', '-', 'g')), 100), ''), 'lieu')
$$;

CREATE FUNCTION venue_give_slug() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    base text := venue_slug_base(NEW.name, NEW.commune);
BEGIN
    IF NEW.slug IS NOT NULL AND NEW.slug <> '' THEN
        RETURN NEW;
    END IF;
    NEW.slug := base;
    IF EXISTS (SELECT 1 FROM venue WHERE slug = NEW.slug) THEN
        NEW.slug := base || '-' || left(replace(NEW.id::text, '-', ''), 8);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER venue_slug BEFORE INSERT ON venue FOR EACH ROW EXECUTE FUNCTION venue_give_slug();

-- Venues that exist already, oldest first (the first of two namesakes keeps the plain slug).
DO $$
DECLARE
    row record;
BEGIN
    FOR row IN SELECT id, name, commune FROM venue ORDER BY created_at, id LOOP
        UPDATE venue SET slug = CASE
            WHEN EXISTS (SELECT 1 FROM venue WHERE slug = venue_slug_base(row.name, row.commune))
            THEN venue_slug_base(row.name, row.commune) || '-' || left(replace(row.id::text, '-', ''), 8)
            ELSE venue_slug_base(row.name, row.commune) END
         WHERE id = row.id;
    END LOOP;
END
$$;

ALTER TABLE venue
    ALTER COLUMN slug DROP DEFAULT,
    ADD CONSTRAINT venue_slug_key UNIQUE (slug),
    ADD CONSTRAINT venue_slug_shape CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$');

-- The public directory's order: a page of /lieux reads 50 entries of this index.
CREATE INDEX venue_directory_idx ON venue (commune, name, id) WHERE status = 'approved';
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="booking", description=DESCRIPTION)

    async def run() -> None:
        await execute_sql(FORWARDS)

    manager.add_raw(run)
    return manager
