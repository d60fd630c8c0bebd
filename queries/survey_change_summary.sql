-- Paired pre-to-post survey change, per role and for everyone (role NULL).
-- A participant's change = mean post score - mean pre score over the items answered in both
-- waves; only participants with both waves count (a pair). Aggregated so no id leaves the query.
WITH chosen AS (
    SELECT p.participant_id, p.role
    FROM participants p
    JOIN cohorts c USING (cohort_id)
    WHERE list_contains($prison_ids, c.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
      AND ($wing_ids IS NULL OR $scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id))  -- wing detail only in scope
      AND c.start_date >= $period_start AND c.start_date < $period_end
),
item_pairs AS (
    SELECT
        s.participant_id,
        s.item,
        max(s.score) FILTER (WHERE s.wave = 'pre') AS pre,
        max(s.score) FILTER (WHERE s.wave = 'post') AS post
    FROM survey_responses s
    JOIN chosen USING (participant_id)
    WHERE s.wave IN ('pre', 'post')
    GROUP BY ALL
    HAVING pre IS NOT NULL AND post IS NOT NULL
),
participant_change AS (
    SELECT participant_id, avg(post - pre) AS change
    FROM item_pairs
    GROUP BY participant_id
)
SELECT
    chosen.role,
    count(*) AS participants,
    count(pc.change) AS pairs,
    avg(pc.change) AS mean_change,
    stddev_samp(pc.change) AS sd_change
FROM chosen
LEFT JOIN participant_change pc USING (participant_id)
GROUP BY GROUPING SETS ((chosen.role), ())
ORDER BY chosen.role NULLS FIRST
