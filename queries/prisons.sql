-- Every prison, with the programmes it runs (rollups/prison_programmes.sql: programme_sites, or
-- what the programmes' own extracts show), its cohorts and its wings.
WITH cohort_counts AS (SELECT prison_id, count(*) AS cohorts FROM cohorts GROUP BY prison_id),
wing_counts AS (SELECT prison_id, count(*) AS wings FROM wings GROUP BY prison_id)
SELECT
    p.prison_id,
    p.name,
    p.prison_type,
    p.region,
    p.operational_capacity,
    coalesce(r.runs_the_conversation, false) AS runs_the_conversation,
    coalesce(c.cohorts, 0) AS cohorts,
    coalesce(w.wings, 0) AS wings,
    coalesce(r.runs_good_prison_project, false) AS runs_good_prison_project
FROM prisons p
LEFT JOIN prison_programmes r USING (prison_id)
LEFT JOIN cohort_counts c USING (prison_id)
LEFT JOIN wing_counts w USING (prison_id)
ORDER BY p.name
