-- How many answers of each score per item and wave (pre and post), for the chosen cohorts and
-- role, added up from the cohort_likert rollup.
WITH sums AS (
    SELECT
        l.item,
        l.wave,
        sum(l.score_1) AS s1, sum(l.score_2) AS s2, sum(l.score_3) AS s3, sum(l.score_4) AS s4, sum(l.score_5) AS s5
    FROM cohort_likert l
    JOIN chosen_cohorts($prison_ids, $wing_ids, $period_start, $period_end, $scope_prisons, $scope_sdm, $sdm, $cohort_id) USING (cohort_id)
    WHERE ($role IS NULL OR l.role = $role)
      AND l.wave IN ('pre', 'post')
    GROUP BY ALL
),
scores AS (
    SELECT item, wave, unnest([1, 2, 3, 4, 5]) AS score, unnest([s1, s2, s3, s4, s5])::BIGINT AS answers FROM sums
)
SELECT item, wave, score, answers
FROM scores
WHERE answers > 0
ORDER BY item, wave, score
