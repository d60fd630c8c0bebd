-- Every prison, with the programmes it runs (macros/runs_programme.sql: programme_sites, or what the
-- programmes' own extracts show).
SELECT
    p.prison_id,
    p.name,
    p.prison_type,
    p.region,
    p.operational_capacity,
    runs_programme(p.prison_id, 'the_conversation') AS runs_the_conversation,
    (SELECT count(*) FROM cohorts c WHERE c.prison_id = p.prison_id) AS cohorts,
    (SELECT count(*) FROM wings w WHERE w.prison_id = p.prison_id) AS wings,
    runs_programme(p.prison_id, 'good_prison_project') AS runs_good_prison_project
FROM prisons p
ORDER BY p.name
