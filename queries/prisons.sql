-- Every prison, with the programmes it runs (derived from the extracts, not configured).
SELECT
    p.prison_id,
    p.name,
    p.prison_type,
    p.region,
    p.operational_capacity,
    EXISTS (SELECT 1 FROM cohorts c WHERE c.prison_id = p.prison_id) AS runs_the_conversation,
    (SELECT count(*) FROM cohorts c WHERE c.prison_id = p.prison_id) AS cohorts,
    EXISTS (SELECT 1 FROM services s WHERE s.prison_id = p.prison_id) AS runs_good_prison_project
FROM prisons p
ORDER BY p.name
