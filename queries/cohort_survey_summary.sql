-- Per chosen cohort: participants, pre responders, paired participants (pre and post), and the
-- mean paired change (per participant: mean post - mean pre over items answered in both).
WITH chosen AS (
    SELECT p.participant_id, p.cohort_id
    FROM participants p
    JOIN cohorts c USING (cohort_id)
    WHERE list_contains($prison_ids, c.prison_id)
      AND ($wing_ids IS NULL OR list_contains($wing_ids, c.wing_id))
      AND c.start_date >= $period_start AND c.start_date < $period_end
      AND ($scope_prisons IS NULL OR list_contains($scope_prisons, c.prison_id) OR c.sdm = $scope_sdm)  -- cohorts the viewer may see in detail
      AND ($sdm IS NULL OR c.sdm = $sdm)
      AND ($cohort_id IS NULL OR c.cohort_id = $cohort_id)
      AND ($role IS NULL OR p.role = $role)
)
SELECT
    chosen.cohort_id,
    count(*) AS participants,
    count(*) FILTER (WHERE pc.answered_pre) AS answered_pre,
    count(pc.change) AS pairs,
    avg(pc.change) AS mean_change
FROM chosen
LEFT JOIN participant_survey_change pc USING (participant_id)
GROUP BY chosen.cohort_id
ORDER BY chosen.cohort_id
