-- A design for the monthly close measured on the benchmark's data, not the code's design.
--
-- Today a close writes one billed_visit row per visit (its primary key is most of the close's
-- "usage" step) and reads every visit ever billed. Measured here instead: a billing number on
-- each visit (given when the visit is written billable or becomes billable) and one watermark
-- per closed month. A visit is billed in month P when its local date is before P's end and its
-- number at most P's watermark, and it was not billed before: its date is in P, or its number
-- is above the previous month's watermark. The close writes one row per month, not per visit.
--
-- Run on the database bench.close leaves behind (it alters it; bench.close re-creates it):
--
--     python3 -m uv run --frozen python -m bench.close \
--         --database-url postgresql://postgres@127.0.0.1:5432/tl_perf_close
--     psql -h 127.0.0.1 -U postgres tl_perf_close -f bench/close_watermark.sql
--
-- Each statement prints its time (\timing); compare with the bare GROUP BYs at the end.
\timing on
SET work_mem = '64MB';

-- One-off: number the existing visits (a migration would number the billed months first).
ALTER TABLE visit DISABLE TRIGGER USER;
ALTER TABLE visit ADD COLUMN billing_number bigint;
UPDATE visit SET billing_number = n.n
  FROM (SELECT id, row_number() OVER (ORDER BY checked_in_at) AS n FROM visit) n
 WHERE n.id = visit.id;
VACUUM ANALYZE visit;
CREATE TEMP TABLE billing_mark (period date PRIMARY KEY, period_end date, watermark bigint);

-- The close's own write: wait for the visits being written, read the high mark, record it.
BEGIN;
LOCK TABLE visit IN SHARE MODE;
INSERT INTO billing_mark SELECT '2026-10-01', '2026-11-01', max(billing_number) FROM visit;
COMMIT;

-- The month's billed visits, read by these ranges.
SELECT count(*) AS billed_visits, sum(v.quantity) AS units
  FROM visit v JOIN billing_mark m ON m.period = '2026-10-01'
 WHERE v.billable AND v.attendee IS NULL
   AND v.local_date < m.period_end AND v.billing_number <= m.watermark
   AND (v.local_date >= m.period
        OR v.billing_number > coalesce((SELECT p.watermark FROM billing_mark p
                                         WHERE p.period < m.period
                                         ORDER BY p.period DESC LIMIT 1), 0));

-- The invoices' groups as today (one line per venue, kind, unit and price), from the visits.
SELECT count(*) AS invoice_lines FROM (
    SELECT v.organisation, v.venue, w.kind, v.unit, v.organisation_rate_cents,
           v.organisation_vat_rate, sum(v.quantity)
      FROM visit v JOIN workspace w ON w.id = v.workspace
      JOIN billing_mark m ON m.period = '2026-10-01'
     WHERE v.billable AND v.attendee IS NULL
       AND v.local_date < m.period_end AND v.billing_number <= m.watermark
     GROUP BY 1, 2, 3, 4, 5, 6) g;

-- Fewer invoice lines: one per workspace kind, unit and price (the venues in the detail).
SELECT count(*) AS invoice_lines_without_venue FROM (
    SELECT v.organisation, w.kind, v.unit, v.organisation_rate_cents, v.organisation_vat_rate,
           sum(v.quantity)
      FROM visit v JOIN workspace w ON w.id = v.workspace
      JOIN billing_mark m ON m.period = '2026-10-01'
     WHERE v.billable AND v.attendee IS NULL
       AND v.local_date < m.period_end AND v.billing_number <= m.watermark
     GROUP BY 1, 2, 3, 4, 5) g;

-- The statements' groups.
SELECT count(*) AS statement_lines FROM (
    SELECT v.venue, w.kind, v.unit, v.venue_rate_cents, v.venue_vat_rate, sum(v.quantity)
      FROM visit v JOIN workspace w ON w.id = v.workspace
      JOIN billing_mark m ON m.period = '2026-10-01'
     WHERE v.billable AND v.attendee IS NULL
       AND v.local_date < m.period_end AND v.billing_number <= m.watermark
     GROUP BY 1, 2, 3, 4, 5) g;

-- The bare GROUP BYs of bench.close, for the ratio.
SELECT count(*) AS organisations FROM (SELECT organisation, sum(quantity) FROM visit GROUP BY 1) a;
SELECT count(*) AS venues FROM (SELECT venue, sum(quantity) FROM visit GROUP BY 1) a;
