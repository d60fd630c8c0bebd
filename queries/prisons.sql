-- Every prison, with the programmes it runs: from programme_sites when that extract has rows for the
-- programme; otherwise (an older extract set) from what cohorts and services show.
WITH sites AS (
    SELECT programme, prison_id FROM programme_sites
),
declared AS (
    SELECT
        EXISTS (SELECT 1 FROM sites WHERE programme = 'the_conversation') AS conversation,
        EXISTS (SELECT 1 FROM sites WHERE programme = 'good_prison_project') AS good_prison_project
)
SELECT
    p.prison_id,
    p.name,
    p.prison_type,
    p.region,
    p.operational_capacity,
    CASE WHEN (SELECT conversation FROM declared)
         THEN EXISTS (SELECT 1 FROM sites s WHERE s.prison_id = p.prison_id AND s.programme = 'the_conversation')
         ELSE EXISTS (SELECT 1 FROM cohorts c WHERE c.prison_id = p.prison_id)
    END AS runs_the_conversation,
    (SELECT count(*) FROM cohorts c WHERE c.prison_id = p.prison_id) AS cohorts,
    CASE WHEN (SELECT good_prison_project FROM declared)
         THEN EXISTS (SELECT 1 FROM sites s WHERE s.prison_id = p.prison_id AND s.programme = 'good_prison_project')
         ELSE EXISTS (SELECT 1 FROM services s WHERE s.prison_id = p.prison_id)
    END AS runs_good_prison_project
FROM prisons p
ORDER BY p.name
