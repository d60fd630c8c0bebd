-- The denominator of every incident rate, written once: monthly average populations summed and divided
-- by 12, so one prisoner held for a year is one prisoner-year.
CREATE OR REPLACE MACRO prisoner_years(monthly_population) AS sum(monthly_population) / 12.0
