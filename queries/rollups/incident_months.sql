-- Incidents per prison, wing (NULL: off the wings), month and type, with how many were serious.
-- Built once at load, so a rate never rescans millions of incident rows; every period a page
-- offers is whole months, so a month's row is either in a period or out of it.
SELECT
    prison_id,
    wing_id,
    date_trunc('month', occurred_on)::DATE AS month,
    incident_type,
    count(*) AS incidents,
    count(*) FILTER (WHERE serious) AS serious_incidents
FROM incidents
GROUP BY ALL
ORDER BY prison_id, month, wing_id, incident_type
