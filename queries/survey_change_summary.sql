-- Paired pre-to-post survey change, per role and for everyone (role NULL).
-- A participant's change = mean post score - mean pre score over the items answered in both
-- waves; only participants with both waves count (a pair). Aggregated so no id leaves the query.
-- Each participant's change comes from the participant_survey_change rollup.
WITH chosen AS (
    SELECT p.participant_id, p.role
    FROM participants p
    JOIN cohorts c USING (cohort_id)
    WHERE list_contains($prison_ids, c.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
      AND ($wing_ids IS NULL OR $scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id))  -- wing detail only in scope
      AND c.start_date >= $period_start AND c.start_date < $period_end
)
SELECT
    chosen.role,
    count(*) AS participants,
    count(pc.change) AS pairs,
    avg(pc.change) AS mean_change,
    stddev_samp(pc.change) AS sd_change
FROM chosen
LEFT JOIN participant_survey_change pc USING (participant_id)
GROUP BY GROUPING SETS ((chosen.role), ())
ORDER BY chosen.role NULLS FIRST
